"""What the sandbox must know to play WeChat for one merchant: the apps, their secrets and the pay keys."""
from __future__ import annotations

from dataclasses import dataclass, field

# WeChat Pay's documented notification retry schedule (seconds after the previous try): 15s/15s/30s/3m/10m/20m/30m/
# 30m/30m/60m/3h/3h/3h/6h/6h. Tests pass a fast schedule.
REAL_NOTIFY_SCHEDULE_S: tuple[float, ...] = (
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
)


@dataclass
class SandboxSettings:
    # appid -> secret for every app the sandbox knows: the consumer and staff mini-programs and the official account.
    apps: dict[str, str] = field(default_factory=dict)
    official_account_appid: str = ""
    official_account_token: str = ""
    official_account_aes_key: str | None = None
    # WeChat Pay: the merchant, the key that verifies the merchant's request signatures, and the sandbox's own
    # WeChat Pay key pair (PUB_KEY_ID_…) that signs responses and notifications.
    mchid: str = ""
    merchant_serial_no: str = ""
    merchant_public_key_pem: bytes = b""
    wechatpay_public_key_id: str = ""
    wechatpay_private_key_pem: bytes = b""
    apiv3_key: str = ""
    access_token_ttl_s: int = 7200
    # cgi-bin/token: 2,000 calls a day per app on WeChat (45009 beyond); stable_token: 500,000.
    token_daily_quota: int = 2000
    stable_token_daily_quota: int = 500000
    # Strict by default, as WeChat: no unionid unless the apps share an Open Platform account; a payment unknown to
    # the shipping service for a while after it was paid (10060001).
    open_platform_bound: bool = False
    shipping_ready_after_s: float = 60
    notify_schedule_s: tuple[float, ...] = REAL_NOTIFY_SCHEDULE_S
