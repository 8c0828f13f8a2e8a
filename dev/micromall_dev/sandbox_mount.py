"""The built-in WeChat sandbox: its settings come from the app's config, and in development it is mounted
in-process under /__sandbox__ so one `micromall serve` is a complete, offline WeChat world."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from wechat_sandbox import SandboxSettings, create_sandbox_app

MOUNT_PATH = "/__sandbox__"


def _read(path: str | None) -> bytes:
    return Path(path).read_bytes() if path else b""


def sandbox_settings(config: Mapping[str, Any], **overrides: Any) -> SandboxSettings:
    apps = {config[f"{p}_APPID"]: config[f"{p}_SECRET"]
            for p in ("MINIPROGRAM", "STAFF_MINIPROGRAM", "OFFICIAL_ACCOUNT") if config.get(f"{p}_APPID")}
    settings = SandboxSettings(
        apps=apps,
        official_account_appid=config["OFFICIAL_ACCOUNT_APPID"] or "",
        official_account_token=config["OFFICIAL_ACCOUNT_TOKEN"] or "",
        official_account_aes_key=config["OFFICIAL_ACCOUNT_AES_KEY"],
        mchid=config["WECHATPAY_MCHID"] or "",
        merchant_serial_no=config["WECHATPAY_MERCHANT_SERIAL_NO"] or "",
        merchant_public_key_pem=_read(config.get("SANDBOX_MERCHANT_PUBLIC_KEY_PATH")),
        wechatpay_public_key_id=config["WECHATPAY_PUBLIC_KEY_ID"] or "",
        wechatpay_private_key_pem=_read(config.get("SANDBOX_WECHATPAY_PRIVATE_KEY_PATH")),
        apiv3_key=config["WECHATPAY_APIV3_KEY"] or "",
    )
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


def mount_sandbox(app: Flask) -> None:
    sandbox = create_sandbox_app(sandbox_settings(app.config))
    app.extensions["wechat_sandbox"] = sandbox
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {MOUNT_PATH: sandbox.wsgi_app})  # type: ignore[method-assign]
