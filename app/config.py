"""All configuration in one table: names, defaults and checks. Read from the environment once, at create_app().

Production fails fast on weak or missing settings instead of falling back to a development default.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any, Callable, Mapping


class ConfigError(Exception):
    """The environment cannot run the app; `problems` holds one line per thing to set."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


ENVIRONMENTS = ("development", "testing", "production")

# Development stand-ins that the built-in sandbox knows. They are only ever used with WECHAT_SANDBOX=1, which
# production refuses.
SANDBOX_APPS = {
    "MINIPROGRAM": ("wx0000000000c0ffee", "sandbox-consumer-secret"),
    "STAFF_MINIPROGRAM": ("wx0000000000057aff", "sandbox-staff-secret"),
    "OFFICIAL_ACCOUNT": ("wx00000000000000a0", "sandbox-oa-secret"),
}
SANDBOX_OA_TOKEN = "sandboxtoken"
SANDBOX_OA_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars, like an EncodingAESKey
SANDBOX_MCHID = "1900000001"
# Template ids the sandbox accepts (it checks only that one is given); real ones come from the WeChat consoles.
SANDBOX_TEMPLATES = {
    "SUBSCRIBE_TEMPLATE_ORDER_PAID": "sandbox-subscribe-order-paid",
    "SUBSCRIBE_TEMPLATE_ORDER_READY": "sandbox-subscribe-order-ready",
    "SUBSCRIBE_TEMPLATE_ORDER_PICKED_UP": "sandbox-subscribe-order-picked-up",
    "SUBSCRIBE_TEMPLATE_ORDER_REFUNDED": "sandbox-subscribe-order-refunded",
    "OFFICIAL_ACCOUNT_TEMPLATE_ORDER_STATUS": "sandbox-oa-order-status",
}


def _bool(value: str) -> bool:
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected 1 or 0")


def _int(value: str) -> int:
    return int(value.strip())


@dataclass(frozen=True)
class Setting:
    name: str
    meaning: str
    parse: Callable[[str], Any] = str
    default: Any = None  # None: unset unless derived below


SETTINGS: tuple[Setting, ...] = (
    Setting("MICROMALL_ENV", "development, testing or production", str, "development"),
    Setting("SECRET_KEY", "signs session and QR tokens; >= 32 chars in production", str),
    Setting("DATABASE_URL", "SQLAlchemy URL (mysql+pymysql://… in production)", str),
    Setting("REDIS_URL", "Redis for RQ, token cache, rate limits, dedup", str),
    Setting("WECHAT_SANDBOX", "1: every WeChat call goes to the built-in sandbox", _bool),
    Setting("WECHAT_API_BASE_URL", "base of api.weixin.qq.com", str),
    Setting("WECHATPAY_API_BASE_URL", "base of api.mch.weixin.qq.com", str),
    Setting("MINIPROGRAM_APPID", "consumer mini-program appid", str),
    Setting("MINIPROGRAM_SECRET", "consumer mini-program secret", str),
    Setting("STAFF_MINIPROGRAM_APPID", "staff mini-program appid", str),
    Setting("STAFF_MINIPROGRAM_SECRET", "staff mini-program secret", str),
    Setting("OFFICIAL_ACCOUNT_APPID", "official account appid", str),
    Setting("OFFICIAL_ACCOUNT_SECRET", "official account secret", str),
    Setting("OFFICIAL_ACCOUNT_TOKEN", "official account callback token", str),
    Setting("OFFICIAL_ACCOUNT_AES_KEY", "EncodingAESKey (43 chars); unset: plaintext mode only", str),
    Setting("OFFICIAL_ACCOUNT_PREVIOUS_AES_KEY", "the key before a key change, accepted meanwhile", str),
    Setting("OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE", "1: refuse plaintext callback messages (safe mode only)", _bool,
            False),
    Setting("SUBSCRIBE_TEMPLATE_ORDER_PAID", "mini-program subscribe template: order paid; unset: not sent", str),
    Setting("SUBSCRIBE_TEMPLATE_ORDER_READY", "mini-program subscribe template: order ready", str),
    Setting("SUBSCRIBE_TEMPLATE_ORDER_PICKED_UP", "mini-program subscribe template: order picked up", str),
    Setting("SUBSCRIBE_TEMPLATE_ORDER_REFUNDED", "mini-program subscribe template: order refunded", str),
    Setting("OFFICIAL_ACCOUNT_TEMPLATE_ORDER_STATUS", "official-account template: order status; unset: not sent",
            str),
    Setting("WECHATPAY_MCHID", "merchant id", str),
    Setting("WECHATPAY_MERCHANT_SERIAL_NO", "serial of the merchant API certificate", str),
    Setting("WECHATPAY_PRIVATE_KEY_PATH", "merchant API private key (PEM)", str),
    Setting("WECHATPAY_APIV3_KEY", "APIv3 key (32 chars) that decrypts notifications", str),
    Setting("WECHATPAY_PUBLIC_KEY_ID", "WeChat Pay public key id (PUB_KEY_ID_…)", str),
    Setting("WECHATPAY_PUBLIC_KEY_PATH", "WeChat Pay public key (PEM)", str),
    Setting("WECHATPAY_PLATFORM_CERT_DIR", "optional platform certificates (older mode)", str),
    Setting("WECHATPAY_MERCHANT_CERT_PATH", "optional merchant certificate (apiclient_cert.pem): check-config matches "
            "it against the private key and the serial", str),
    Setting("PUBLIC_BASE_URL", "the HTTPS origin WeChat reaches", str, "http://127.0.0.1:5000"),
    Setting("PROXY_HOPS", "reverse proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are trusted", _int, 0),
    Setting("ORDER_PAYMENT_TIMEOUT_S", "unpaid orders expire after this", _int, 900),
    Setting("PICKUP_WINDOW_H", "paid orders not picked up in this window are refunded", _int, 72),
    Setting("LOGIN_TOKEN_TTL_S", "lifetime of a consumer or staff token", _int, 86400),
    Setting("MAX_REQUEST_BYTES", "largest request body accepted (413 above)", _int, 64 * 1024),
    Setting("STORE_TIMEZONE", "the stores' local time zone, for opening hours", str, "Asia/Shanghai"),
    Setting("JOBS_EAGER", "without Redis: run jobs right after the commit instead of on a thread", _bool, False),
    Setting("CONSOLE_IDLE_TIMEOUT_S", "merchant console: sign out after this long without a click", _int, 3600),
    Setting("CONSOLE_IMPORT_MAX_BYTES", "merchant console: largest catalog CSV upload", _int, 4 * 1024 * 1024),
)


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None,
                instance_path: str | None = None) -> dict[str, Any]:
    """Return the validated configuration; raise ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    problems: list[str] = []
    cfg: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            cfg[setting.name] = overrides.pop(setting.name)
            continue
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            cfg[setting.name] = setting.default
            continue
        try:
            cfg[setting.name] = setting.parse(raw)
        except ValueError:
            problems.append(f"{setting.name}={raw!r} is not valid: set it to {setting.meaning}.")
    env = cfg["MICROMALL_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError([f"MICROMALL_ENV={env!r}: set it to one of {', '.join(ENVIRONMENTS)}."])
    production = env == "production"
    if cfg["WECHAT_SANDBOX"] is None:
        cfg["WECHAT_SANDBOX"] = not production
    if production:
        problems += _production_problems(cfg)
    if problems:
        raise ConfigError(problems)
    _fill_development_defaults(cfg, instance_path)
    cfg.update(overrides)  # Flask settings passed by tests or tools (TESTING, SERVER_NAME, …)
    return cfg


def _production_problems(cfg: dict[str, Any]) -> list[str]:
    problems = []
    key = cfg["SECRET_KEY"] or ""
    if len(key) < 32:
        problems.append("SECRET_KEY is missing or shorter than 32 characters: set it to a long random value "
                        "(python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    if not cfg["REDIS_URL"]:
        problems.append("REDIS_URL is not set: production needs Redis (jobs, token cache, rate limits), "
                        "e.g. REDIS_URL=redis://127.0.0.1:6379/0.")
    if cfg["WECHAT_SANDBOX"]:
        problems.append("WECHAT_SANDBOX=1 is refused in production: unset it and set the real WeChat credentials.")
    url = cfg["DATABASE_URL"] or ""
    if not url or url.startswith("sqlite"):
        problems.append("DATABASE_URL is SQLite or unset: production needs MySQL/MariaDB, "
                        "e.g. DATABASE_URL=mysql+pymysql://user:pass@host/micromall?charset=utf8mb4.")
    for name in ("MINIPROGRAM_APPID", "MINIPROGRAM_SECRET", "WECHATPAY_MCHID", "WECHATPAY_APIV3_KEY",
                 "WECHATPAY_PRIVATE_KEY_PATH", "WECHATPAY_MERCHANT_SERIAL_NO"):
        if not cfg[name]:
            problems.append(f"{name} is not set: production talks to the real WeChat and needs it.")
    if not (cfg["WECHATPAY_PUBLIC_KEY_PATH"] or cfg["WECHATPAY_PLATFORM_CERT_DIR"]):
        problems.append("Neither WECHATPAY_PUBLIC_KEY_PATH nor WECHATPAY_PLATFORM_CERT_DIR is set: "
                        "set one so WeChat Pay's signatures can be verified.")
    return problems


def _fill_development_defaults(cfg: dict[str, Any], instance_path: str | None) -> None:
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = secrets.token_urlsafe(48)  # random per process: tokens die with a restart
    if not cfg["DATABASE_URL"]:
        path = os.path.join(instance_path or ".", "micromall.sqlite3")
        cfg["DATABASE_URL"] = f"sqlite:///{path}"
    if cfg["WECHAT_SANDBOX"]:
        # The in-process sandbox is mounted under /__sandbox__ of the app itself (see app/sandbox_mount.py).
        base = f"{cfg['PUBLIC_BASE_URL'].rstrip('/')}/__sandbox__"
        cfg["WECHAT_API_BASE_URL"] = cfg["WECHAT_API_BASE_URL"] or base
        cfg["WECHATPAY_API_BASE_URL"] = cfg["WECHATPAY_API_BASE_URL"] or base
        for prefix, (appid, secret) in SANDBOX_APPS.items():
            cfg[f"{prefix}_APPID"] = cfg[f"{prefix}_APPID"] or appid
            cfg[f"{prefix}_SECRET"] = cfg[f"{prefix}_SECRET"] or secret
        cfg["OFFICIAL_ACCOUNT_TOKEN"] = cfg["OFFICIAL_ACCOUNT_TOKEN"] or SANDBOX_OA_TOKEN
        cfg["OFFICIAL_ACCOUNT_AES_KEY"] = cfg["OFFICIAL_ACCOUNT_AES_KEY"] or SANDBOX_OA_AES_KEY
        cfg["WECHATPAY_MCHID"] = cfg["WECHATPAY_MCHID"] or SANDBOX_MCHID
        for name, template_id in SANDBOX_TEMPLATES.items():
            cfg[name] = cfg[name] or template_id
    cfg["WECHAT_API_BASE_URL"] = cfg["WECHAT_API_BASE_URL"] or "https://api.weixin.qq.com"
    cfg["WECHATPAY_API_BASE_URL"] = cfg["WECHATPAY_API_BASE_URL"] or "https://api.mch.weixin.qq.com"


def settings_table() -> list[tuple[str, str, Any]]:
    """(name, meaning, default) for the README and `micromall config`."""
    return [(s.name, s.meaning, s.default) for s in SETTINGS]


def fill_sandbox_pay_keys(cfg: dict[str, Any], instance_path: str) -> None:
    """With the sandbox, WeChat Pay keys are generated on first run into the instance folder (never committed)."""
    if not cfg["WECHAT_SANDBOX"] or cfg["WECHATPAY_PRIVATE_KEY_PATH"]:
        return
    from app.wechat.dev_keys import ensure_dev_keys

    keys = ensure_dev_keys(instance_path)
    cfg["WECHATPAY_PRIVATE_KEY_PATH"] = str(keys.merchant_private_key_path)
    cfg["WECHATPAY_MERCHANT_SERIAL_NO"] = keys.merchant_serial_no
    cfg["WECHATPAY_APIV3_KEY"] = cfg["WECHATPAY_APIV3_KEY"] or keys.apiv3_key
    cfg["WECHATPAY_PUBLIC_KEY_ID"] = cfg["WECHATPAY_PUBLIC_KEY_ID"] or keys.wechatpay_public_key_id
    cfg["WECHATPAY_PUBLIC_KEY_PATH"] = cfg["WECHATPAY_PUBLIC_KEY_PATH"] or str(keys.wechatpay_public_key_path)
    # Only the sandbox needs these two: the merchant's public key and WeChat Pay's private key.
    cfg["SANDBOX_MERCHANT_PUBLIC_KEY_PATH"] = str(keys.merchant_public_key_path)
    cfg["SANDBOX_WECHATPAY_PRIVATE_KEY_PATH"] = str(keys.wechatpay_private_key_path)
