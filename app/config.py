"""All configuration in one table: names, defaults and checks. Read from the environment once, at create_app().

Production fails fast on weak or missing settings instead of falling back to a development default.
"""
from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit


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
    Setting("WECHAT_SANDBOX", "1: every WeChat call goes to the built-in sandbox; unset: on only in development with a "
            "loopback PUBLIC_BASE_URL and no real app ids", _bool),
    Setting("WECHAT_API_BASE_URL", "base of api.weixin.qq.com", str),
    Setting("WECHATPAY_API_BASE_URL", "base of api.mch.weixin.qq.com", str),
    Setting("WECHAT_MP_BASE_URL", "base of mp.weixin.qq.com (showqrcode)", str),
    Setting("MINIPROGRAM_APPID", "consumer mini-program appid", str),
    Setting("MINIPROGRAM_SECRET", "consumer mini-program secret", str),
    Setting("STAFF_MINIPROGRAM_APPID", "staff mini-program appid", str),
    Setting("STAFF_MINIPROGRAM_SECRET", "staff mini-program secret", str),
    Setting("OFFICIAL_ACCOUNT_APPID", "official account appid", str),
    Setting("OFFICIAL_ACCOUNT_SECRET", "official account secret", str),
    Setting("OFFICIAL_ACCOUNT_TOKEN", "official account callback token", str),
    Setting("OFFICIAL_ACCOUNT_AES_KEY", "EncodingAESKey (43 chars); unset: plaintext mode only", str),
    Setting("OFFICIAL_ACCOUNT_PREVIOUS_AES_KEY", "the key before a key change, accepted meanwhile", str),
    Setting("OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE", "1: refuse plaintext callback messages (safe mode only); 0: WeChat's "
            "compatible mode; unset: 1 whenever an AES key is set", _bool),
    Setting("NOTIFICATION_TEMPLATES", "path to the JSON file naming each message's template and keyword mapping "
            "(docs/wechat.md); unset: no template messages (the sandbox's own set with WECHAT_SANDBOX=1)", str),
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
    Setting("MAX_UNPAID_ORDERS", "unpaid orders one customer may hold at once (409 too_many_unpaid_orders beyond)",
            _int, 3),
    Setting("ORDERS_PER_CUSTOMER_PER_MINUTE", "order placements one customer may make per minute (429 beyond)", _int,
            10),
    Setting("API_VALIDATE_RESPONSES", "1: every /api/v1 answer is checked against its declared schema (a mismatch is a "
            "500 the tests see); 0: the answers go out as the views made them; unset: on outside production", _bool),
    Setting("JOBS_EAGER", "without Redis: run jobs right after the commit instead of on a thread", _bool, False),
    Setting("DATABASE_TIMEOUT_S", "MariaDB statement time limit; reads and writes give up 1 s later (below "
            "gunicorn's 15 s)", _int, 5),
    Setting("REDIS_TIMEOUT_MS", "Redis connect and socket timeout of the web processes (short: callbacks must "
            "answer WeChat within 5 s)", _int, 500),
    Setting("JOBS_LEASE_S", "a job still running after this is taken to be orphaned (its worker died) and run "
            "again", _int, 40),
    Setting("PERIODIC_INTERVAL_PERCENT", "periodic jobs run every (their interval x this / 100); 100 in "
            "production, lower in fault tests", _int, 100),
    # Issue 18: alliance and merchant-funded coupons only from stores that keep their promises and please customers.
    Setting("SUBSIDY_MIN_ON_TIME_PCT", "a store issues subsidised coupons only at this trailing 30-day on-time "
            "rate (0-100) or above", _int, 90),
    Setting("SUBSIDY_MIN_RATING", "… and at this trailing 30-day average rating (1-5) or above", float, 4.0),
    Setting("SUBSIDY_MIN_SAMPLE", "fewer judged orders (or ratings) than this in 30 days: that figure is not held "
            "against the store", _int, 5),
    Setting("ATTRIBUTION_WINDOW_D", "days a staff scene owns a customer at its store", _int, 30),
    Setting("ATTRIBUTION_CODE_PAGE", "consumer mini-program page that staff and store codes open", str,
            "pages/index/index"),
    Setting("ATTRIBUTION_SCENE_GRACE_D", "days a rotated staff or store code keeps working", _int, 30),
    Setting("PAYOUT_TRANSFER_SCENE_ID", "WeChat Pay merchant-transfer scene of commission payouts (1005: 佣金报酬)",
            str, "1005"),
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
        cfg["WECHAT_SANDBOX"] = env == "development" and is_loopback_url(cfg["PUBLIC_BASE_URL"]) \
            and not real_credentials(cfg)
    if production:
        problems += _production_problems(cfg)
    elif cfg["WECHAT_SANDBOX"] and real_credentials(cfg):
        problems.append(f"WECHAT_SANDBOX=1 with real-looking credentials ({', '.join(real_credentials(cfg))}): the "
                        "sandbox logs anyone in; unset those to use the sandbox, or set WECHAT_SANDBOX=0.")
    if problems:
        raise ConfigError(problems)
    _fill_development_defaults(cfg, instance_path)
    if cfg["API_VALIDATE_RESPONSES"] is None:
        # The tests and the property run (tests/app/test_api_properties.py) check every answer against its schema;
        # in production that check is a quarter of a warm product list's CPU (bench/per_request.py) and could only
        # turn a slightly-off answer into a 500 for a customer.
        cfg["API_VALIDATE_RESPONSES"] = not production
    if cfg["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] is None:
        # With an EncodingAESKey WeChat can encrypt every message; a plaintext one is then only ever a forgery or a
        # replay (issue 11). Compatible mode (both kinds) must be asked for with =0.
        cfg["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] = bool(cfg["OFFICIAL_ACCOUNT_AES_KEY"])
    from app.wechat.templates import load_templates

    # A template file naming an unknown message, keyword type or value refuses to start (47003 otherwise).
    templates, template_problems = load_templates(cfg["NOTIFICATION_TEMPLATES"], cfg["WECHAT_SANDBOX"])
    if template_problems:
        raise ConfigError(template_problems)
    cfg["NOTIFICATION_TEMPLATE_MAP"] = templates
    cfg.update(overrides)  # Flask settings passed by tests or tools (TESTING, SERVER_NAME, …)
    return cfg


def is_loopback_url(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def real_credentials(cfg: Mapping[str, Any]) -> list[str]:
    """The settings that name a real WeChat app or merchant (anything but the sandbox's own stand-ins)."""
    sandbox_appids = {appid for appid, _ in SANDBOX_APPS.values()}
    names = [f"{prefix}_APPID" for prefix in SANDBOX_APPS
             if cfg.get(f"{prefix}_APPID") and cfg[f"{prefix}_APPID"] not in sandbox_appids]
    if cfg.get("WECHATPAY_MCHID") and cfg["WECHATPAY_MCHID"] != SANDBOX_MCHID:
        names.append("WECHATPAY_MCHID")
    return names


MIN_SECRET_KEY_BITS = 100
MIN_SECRET_KEY_DISTINCT = 12


def secret_key_problem(key: str | None) -> str | None:
    """Why SECRET_KEY is too weak to sign tokens, or None. Entropy is estimated from the key's own character
    frequencies (Shannon, times its length): 32 spaces or "x" * 40 carry none, a secrets.token_urlsafe(48) ~350
    bits, 32 hex digits ~110."""
    key = key or ""
    if len(key) < 32:
        return "is missing or shorter than 32 characters"
    counts = Counter(key)
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if len(counts) < MIN_SECRET_KEY_DISTINCT or bits < MIN_SECRET_KEY_BITS:
        return (f"has too little entropy (about {int(bits)} bits from {len(counts)} distinct characters; at least "
                f"{MIN_SECRET_KEY_BITS} bits from {MIN_SECRET_KEY_DISTINCT} are needed)")
    return None


def mask_url_password(url: str) -> str:
    """postgres/mysql/redis URLs with the password replaced by ****, for printing."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "****"  # unparseable: print nothing of it rather than risk the password
    return urlunsplit((parts.scheme, f"{parts.username or ''}:****@{host}", parts.path, parts.query, parts.fragment))


def _production_problems(cfg: dict[str, Any]) -> list[str]:
    problems = []
    weakness = secret_key_problem(cfg["SECRET_KEY"])
    if weakness:
        problems.append(f"SECRET_KEY {weakness}: set it to a long random value "
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
        # The in-process sandbox is mounted under /__sandbox__ of the app itself (see dev/micromall_dev/sandbox_mount.py).
        base = f"{cfg['PUBLIC_BASE_URL'].rstrip('/')}/__sandbox__"
        cfg["WECHAT_API_BASE_URL"] = cfg["WECHAT_API_BASE_URL"] or base
        cfg["WECHATPAY_API_BASE_URL"] = cfg["WECHATPAY_API_BASE_URL"] or base
        for prefix, (appid, secret) in SANDBOX_APPS.items():
            cfg[f"{prefix}_APPID"] = cfg[f"{prefix}_APPID"] or appid
            cfg[f"{prefix}_SECRET"] = cfg[f"{prefix}_SECRET"] or secret
        cfg["OFFICIAL_ACCOUNT_TOKEN"] = cfg["OFFICIAL_ACCOUNT_TOKEN"] or SANDBOX_OA_TOKEN
        cfg["OFFICIAL_ACCOUNT_AES_KEY"] = cfg["OFFICIAL_ACCOUNT_AES_KEY"] or SANDBOX_OA_AES_KEY
        cfg["WECHATPAY_MCHID"] = cfg["WECHATPAY_MCHID"] or SANDBOX_MCHID
        # The sandbox serves mp.weixin.qq.com's showqrcode beside the API.
        cfg["WECHAT_MP_BASE_URL"] = cfg["WECHAT_MP_BASE_URL"] or cfg["WECHAT_API_BASE_URL"]
    cfg["WECHAT_API_BASE_URL"] = cfg["WECHAT_API_BASE_URL"] or "https://api.weixin.qq.com"
    cfg["WECHATPAY_API_BASE_URL"] = cfg["WECHATPAY_API_BASE_URL"] or "https://api.mch.weixin.qq.com"
    cfg["WECHAT_MP_BASE_URL"] = cfg["WECHAT_MP_BASE_URL"] or "https://mp.weixin.qq.com"


def settings_table() -> list[tuple[str, str, Any]]:
    """(name, meaning, default) for the README and `micromall config`."""
    return [(s.name, s.meaning, s.default) for s in SETTINGS]
