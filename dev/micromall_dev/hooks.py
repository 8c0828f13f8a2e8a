"""What the product calls through its `micromall.dev` entry point (app/devtools.py): nothing here is imported by the
product by name. Imports stay inside the functions so registering the commands costs nothing until one runs."""
from __future__ import annotations

from typing import Any

import click
from flask import Flask


def prepare_config(cfg: dict[str, Any], instance_path: str) -> None:
    """With the sandbox, WeChat Pay keys are generated on first run into the instance folder (never committed)."""
    if not cfg["WECHAT_SANDBOX"] or cfg["WECHATPAY_PRIVATE_KEY_PATH"]:
        return
    from micromall_dev.dev_keys import ensure_dev_keys

    keys = ensure_dev_keys(instance_path)
    cfg["WECHATPAY_PRIVATE_KEY_PATH"] = str(keys.merchant_private_key_path)
    cfg["WECHATPAY_MERCHANT_SERIAL_NO"] = keys.merchant_serial_no
    cfg["WECHATPAY_APIV3_KEY"] = cfg["WECHATPAY_APIV3_KEY"] or keys.apiv3_key
    cfg["WECHATPAY_PUBLIC_KEY_ID"] = cfg["WECHATPAY_PUBLIC_KEY_ID"] or keys.wechatpay_public_key_id
    cfg["WECHATPAY_PUBLIC_KEY_PATH"] = cfg["WECHATPAY_PUBLIC_KEY_PATH"] or str(keys.wechatpay_public_key_path)
    # Only the sandbox needs these two: the merchant's public key and WeChat Pay's private key.
    cfg["SANDBOX_MERCHANT_PUBLIC_KEY_PATH"] = str(keys.merchant_public_key_path)
    cfg["SANDBOX_WECHATPAY_PRIVATE_KEY_PATH"] = str(keys.wechatpay_private_key_path)


def mount(app: Flask) -> None:
    """Mount the sandbox in-process only when the app's WeChat base URLs point at that mount: with the sandbox as its
    own server (`micromall sandbox`, as under gunicorn, where every worker must see one sandbox), none is mounted."""
    from micromall_dev.sandbox_mount import MOUNT_PATH, mount_sandbox

    mounted_at = f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}{MOUNT_PATH}"
    if mounted_at in (app.config["WECHAT_API_BASE_URL"].rstrip("/"), app.config["WECHATPAY_API_BASE_URL"].rstrip("/")):
        mount_sandbox(app)


def commands() -> list[click.Command]:
    from micromall_dev.cli import sandbox, serve
    from micromall_dev.demo import demo

    return [serve, sandbox, demo]
