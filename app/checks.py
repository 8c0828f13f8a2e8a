"""`micromall check-config`: what a production environment needs beyond "it starts" — keys readable and
matching, database migrated and reachable, Redis reachable, every URL WeChat sees on HTTPS. Each check says what
to do when it fails."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import text

from app.config import secret_key_problem
from app.extensions import db


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _check(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:  # every failure is reported as a line, whatever raised it
        return Check(name, False, str(exc) or type(exc).__name__)


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _https(config, name: str) -> str:
    value = config.get(name) or ""
    _require(value.startswith("https://"), f"{name}={value!r} must be an https:// URL (WeChat calls only HTTPS)")
    return value


def _private_key(config) -> str:
    path = config.get("WECHATPAY_PRIVATE_KEY_PATH")
    _require(bool(path), "WECHATPAY_PRIVATE_KEY_PATH is not set: the merchant API key (apiclient_key.pem)")
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    _require(isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048, f"{path} is not an RSA key of 2048+ bits")
    cert_path = config.get("WECHATPAY_MERCHANT_CERT_PATH")
    if cert_path:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        _require(cert.public_key().public_numbers() == key.public_key().public_numbers(),
                 f"{cert_path} is not the certificate of {path}: download both from the same merchant account")
        serial = format(cert.serial_number, "X")
        _require(serial.upper() == (config.get("WECHATPAY_MERCHANT_SERIAL_NO") or "").upper(),
                 f"WECHATPAY_MERCHANT_SERIAL_NO should be {serial}, the serial of {cert_path}")
        return f"{path} matches {cert_path} (serial {serial})"
    return f"{path}: RSA {key.key_size} bits"


def _wechatpay_key(config) -> str:
    path, key_id = config.get("WECHATPAY_PUBLIC_KEY_PATH"), config.get("WECHATPAY_PUBLIC_KEY_ID") or ""
    cert_dir = config.get("WECHATPAY_PLATFORM_CERT_DIR")
    _require(bool(path or cert_dir), "set WECHATPAY_PUBLIC_KEY_PATH (and _ID) or WECHATPAY_PLATFORM_CERT_DIR")
    if path:
        serialization.load_pem_public_key(Path(path).read_bytes())
        _require(key_id.startswith("PUB_KEY_ID_"), f"WECHATPAY_PUBLIC_KEY_ID={key_id!r} should start with PUB_KEY_ID_")
    if cert_dir:
        _require(any(Path(cert_dir).glob("*.pem")), f"{cert_dir} holds no .pem platform certificate")
    return f"{key_id or 'platform certificates'} readable"


def _apiv3_key(config) -> str:
    key = config.get("WECHATPAY_APIV3_KEY") or ""
    _require(len(key.encode()) == 32, "WECHATPAY_APIV3_KEY must be the 32-character APIv3 key from the merchant platform")
    return "32 bytes"


def _aes_keys(config) -> str:
    for name in ("OFFICIAL_ACCOUNT_AES_KEY", "OFFICIAL_ACCOUNT_PREVIOUS_AES_KEY"):
        value = config.get(name)
        if value:
            try:
                raw = base64.b64decode(value + "=")
            except binascii.Error:
                raw = b""
            _require(len(value) == 43 and len(raw) == 32, f"{name} must be the 43-character EncodingAESKey")
    return "plaintext mode only" if not config.get("OFFICIAL_ACCOUNT_AES_KEY") else "safe mode key valid"


def _database(app: Flask) -> str:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    db.session.execute(text("SELECT 1"))
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(app.extensions["migrate"].directory).get_current_head()
    db.session.rollback()
    _require(current == head, f"database at revision {current}, code at {head}: run `micromall db upgrade`")
    return f"reachable, at {head}"


def _redis(app: Flask) -> str:
    redis = app.extensions.get("micromall_redis")
    _require(redis is not None, "REDIS_URL is not set")
    redis.ping()
    return "reachable"


def _environment(config) -> str:
    env = config.get("MICROMALL_ENV")
    _require(env == "production", f"MICROMALL_ENV={env!r}: set MICROMALL_ENV=production (outside production the "
                                  "app falls back to development defaults, the WeChat sandbox among them)")
    _require(not config.get("WECHAT_SANDBOX"), "WECHAT_SANDBOX is on: unset it")
    return "production, sandbox off"


def _secret_key(config) -> str:
    weakness = secret_key_problem(config.get("SECRET_KEY"))
    _require(weakness is None, f"SECRET_KEY {weakness}")
    return "long and random enough"


def _notification_templates(app: Flask) -> str:
    """The configured templates, and any 47003 WeChat answered lately: a keyword mapping that does not fit its
    template (NOTIFICATION_TEMPLATES) is a configuration error, named here with the template."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.models import NotificationLog, utcnow

    templates = app.config.get("NOTIFICATION_TEMPLATE_MAP") or {}
    if not templates:
        return "NOTIFICATION_TEMPLATES unset: no subscribe or template messages are sent"
    rows = db.session.execute(select(NotificationLog.kind, NotificationLog.channel).where(
        NotificationLog.errcode == 47003, NotificationLog.updated_at >= utcnow() - timedelta(days=7)).distinct()).all()
    db.session.rollback()
    bad = []
    for kind, channel in rows:
        message = "oa_order_status" if channel == "template" else f"order_{kind}"
        template = templates.get(message)
        bad.append(f"{message} (template {template.template_id if template else '?'})")
    _require(not bad, "WeChat answered 47003 (keywords or values do not fit the template) for " + ", ".join(bad)
             + ": make its fields in NOTIFICATION_TEMPLATES the template's keywords as the WeChat console shows them")
    return f"{len(templates)} configured: " + ", ".join(f"{m}={t.template_id}" for m, t in templates.items())


def run_checks(app: Flask) -> list[Check]:
    config = app.config
    return [
        _check("environment", lambda: _environment(config)),
        _check("SECRET_KEY", lambda: _secret_key(config)),
        _check("PUBLIC_BASE_URL", lambda: _https(config, "PUBLIC_BASE_URL")),
        _check("WECHAT_API_BASE_URL", lambda: _https(config, "WECHAT_API_BASE_URL")),
        _check("WECHATPAY_API_BASE_URL", lambda: _https(config, "WECHATPAY_API_BASE_URL")),
        _check("WECHAT_MP_BASE_URL", lambda: _https(config, "WECHAT_MP_BASE_URL")),
        _check("merchant key", lambda: _private_key(config)),
        _check("WeChat Pay public key", lambda: _wechatpay_key(config)),
        _check("APIv3 key", lambda: _apiv3_key(config)),
        _check("official account keys", lambda: _aes_keys(config)),
        _check("database", lambda: _database(app)),
        _check("Redis", lambda: _redis(app)),
        _check("notification templates", lambda: _notification_templates(app)),
    ]
