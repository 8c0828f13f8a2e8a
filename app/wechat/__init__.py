"""The WeChat API of the app's three WeChat apps, built once per process at first use (no network at start-up).

`api(which)` returns the port (`app/wechat/port.py`); the domain never sees URLs, tokens or wechatpy.
"""
from __future__ import annotations

import threading

from flask import Flask, current_app

from app import jobs
from app.wechat.port import WeChatApi

APPS = {"miniprogram": "MINIPROGRAM", "staff": "STAFF_MINIPROGRAM", "official_account": "OFFICIAL_ACCOUNT"}
_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["micromall_wechat_apis"] = {}


def api(which: str) -> WeChatApi:
    """`miniprogram`, `staff` or `official_account`."""
    apis = current_app.extensions["micromall_wechat_apis"]
    if which not in apis:
        with _lock:
            if which not in apis:
                from app.wechat.http_adapter import HttpWeChatApi

                prefix, config = APPS[which], current_app.config
                apis[which] = HttpWeChatApi(
                    config[f"{prefix}_APPID"], config[f"{prefix}_SECRET"], config["WECHAT_API_BASE_URL"],
                    config["WECHAT_MP_BASE_URL"], current_app.extensions.get("micromall_redis"))
    return apis[which]


@jobs.job
def refresh_access_tokens() -> dict[str, bool]:
    """Periodic job: the one refresher that renews each configured app's token in its last 5 minutes, so calls
    (and the official-account callback above all) find a warm token."""
    results = {}
    for which, prefix in APPS.items():
        if current_app.config.get(f"{prefix}_APPID") and current_app.config.get(f"{prefix}_SECRET"):
            results[which] = api(which).tokens.refresh_if_due()  # type: ignore[attr-defined]
    return results
