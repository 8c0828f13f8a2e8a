"""WeChat Pay v3: the client library (`payments.wechatpay_v3`), the gateway the domain uses, and the notify
endpoints."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from payments.gateway import install
    from payments.notify_views import bp

    install(app)
    app.register_blueprint(bp)
    from payments.transfers import install as install_transfers  # commission payouts (issue 17)

    install_transfers(app)
