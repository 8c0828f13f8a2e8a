"""The sandbox WSGI app: WeChat's API paths at the root (both hosts share one origin: api.weixin.qq.com paths and
the pay v3 `/v3/...` paths do not overlap), and the sandbox's own control paths under `/sandbox/`."""
from __future__ import annotations

from flask import Flask

from wechat_sandbox.settings import SandboxSettings
from wechat_sandbox.state import SandboxState


def create_sandbox_app(settings: SandboxSettings) -> Flask:
    app = Flask("wechat_sandbox")
    app.config["SANDBOX_SETTINGS"] = settings
    app.extensions["sandbox_state"] = SandboxState(settings)

    from wechat_sandbox import control, pay_v3, weixin_api

    app.register_blueprint(weixin_api.bp)
    app.register_blueprint(pay_v3.bp)
    app.register_blueprint(control.bp)
    return app
