"""The WeChat clients of the app, built once per process at first use (no network at start-up)."""
from __future__ import annotations

import threading

from flask import Flask, current_app

from app.wechat.clients import MicromallWeChatClient, build_client

_APPS = {"miniprogram": "MINIPROGRAM", "staff": "STAFF_MINIPROGRAM", "official_account": "OFFICIAL_ACCOUNT"}
_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["micromall_wechat_clients"] = {}


def client(which: str) -> MicromallWeChatClient:
    """`miniprogram`, `staff` or `official_account`."""
    clients = current_app.extensions["micromall_wechat_clients"]
    if which not in clients:
        with _lock:
            if which not in clients:
                prefix = _APPS[which]
                clients[which] = build_client(
                    current_app.config[f"{prefix}_APPID"], current_app.config[f"{prefix}_SECRET"],
                    current_app.config["WECHAT_API_BASE_URL"], current_app.extensions.get("micromall_redis"),
                )
    return clients[which]
