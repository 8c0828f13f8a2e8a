"""The WeChat API as the domain sees it: operations in our terms and errors that say what to do next.

The domain calls `app.wechat.api("miniprogram" | "staff" | "official_account")` and catches these exceptions; only
the adapter (`app/wechat/http_adapter.py`) knows URLs, access tokens and errcodes. Like `app/payments/gateway.py`
for WeChat Pay.

    WeChatError            anything WeChat (or the way to it) did not do
    ├── WeChatUnavailable  network error, timeout, HTTP 5xx, errcode -1: the same call may work later
    │   └── WeChatRateLimited   45009 (daily quota) / 45011 (per-minute): later, and slower
    └── WeChatRefused      any other errcode: the same call fails again (its `errcode` says why)
        └── NoGrant        43101: the user holds no subscription grant for the template
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class WeChatError(Exception):
    def __init__(self, message: str, errcode: int | None = None, errmsg: str | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """Transient: retry later (with backoff)."""


class WeChatRateLimited(WeChatUnavailable):
    """45009 or 45011: a quota ran out; retrying soon makes it worse."""


class WeChatRefused(WeChatError):
    """WeChat answered with an errcode that the same request would get again."""


class NoGrant(WeChatRefused):
    """43101: no one-time subscription grant (or the user cancelled the subscription)."""


# Errcodes WeChat documents as "try again later" (system busy, quotas), as opposed to refusals.
# https://developers.weixin.qq.com/doc/oplatform/Return_codes/Return_code_descriptions_new.html
BUSY = -1
RATE_LIMITED = frozenset({45009, 45011})
NO_GRANT = 43101
# Token problems the adapter handles itself with one forced refresh (never seen by the domain unless it persists).
TOKEN_INVALID = frozenset({40001, 40014, 42001})


def error_for(errcode: int, errmsg: str | None, what: str) -> WeChatError:
    message = f"{what}: errcode {errcode} {errmsg or ''}".strip()
    if errcode == BUSY:
        return WeChatUnavailable(message, errcode, errmsg)
    if errcode in RATE_LIMITED:
        return WeChatRateLimited(message, errcode, errmsg)
    if errcode == NO_GRANT:
        return NoGrant(message, errcode, errmsg)
    return WeChatRefused(message, errcode, errmsg)


@dataclass(frozen=True)
class WeChatImage:
    """A picture WeChat made (QR codes, mini-program codes): bytes and the content type it was sent with."""
    content: bytes
    content_type: str

    @property
    def extension(self) -> str:
        """The file extension the content type names (`image/jpg` and `image/jpeg` → `jpg`)."""
        subtype = self.content_type.split(";")[0].strip().lower().removeprefix("image/")
        return {"jpeg": "jpg", "pjpeg": "jpg", "x-png": "png"}.get(subtype, subtype or "bin")


@dataclass(frozen=True)
class MiniProgramSession:
    openid: str
    session_key: str
    unionid: str | None


class WeChatApi(Protocol):
    """What micromall asks of WeChat. One instance per app (consumer mini-program, staff mini-program, official
    account); every call has a timeout and raises only the exceptions above."""

    appid: str

    # -- both kinds
    def token_is_warm(self) -> bool:
        """True when a call would not have to fetch an access token first (the official-account callback only
        calls WeChat inside its 5 seconds when this holds)."""

    def send_custom_message(self, openid: str, msgtype: str, content: dict[str, Any]) -> None:
        """cgi-bin/message/custom/send, e.g. ("text", {"content": "…"}) or ("news", {"articles": […]})."""

    # -- mini-programs
    def code_to_session(self, code: str) -> MiniProgramSession: ...

    def phone_number(self, code: str) -> str: ...

    def send_subscribe_message(self, openid: str, template_id: str, data: dict[str, str],
                               page: str | None = None) -> str:
        """cgi-bin/message/subscribe/send; `data` is {keyword: value}; returns the msgid."""

    def wxacode_unlimited(self, scene: str, page: str | None = None, width: int = 430,
                          env_version: str = "release", check_path: bool = True) -> WeChatImage:
        """wxa/getwxacodeunlimit: the mini-program code for `scene` (≤ 32 characters), a JPEG on WeChat."""

    def upload_shipping_info(self, payload: dict[str, Any]) -> None:
        """wxa/sec/order/upload_shipping_info."""

    def shipping_order(self, transaction_id: str | None = None, merchant_id: str | None = None,
                       merchant_trade_no: str | None = None) -> dict[str, Any]:
        """wxa/sec/order/get_order: the payment's shipping state (`order_state` 1 waiting … 5 refunded)."""

    # -- official account
    def user_info(self, openid: str, timeout: tuple[float, float] | None = None) -> dict[str, Any]:
        """cgi-bin/user/info; `unionid` only when the apps share an Open Platform account."""

    def send_template_message(self, openid: str, template_id: str, data: dict[str, str],
                              miniprogram: dict[str, str] | None = None) -> str: ...

    def create_qrcode(self, scene: str, expire_seconds: int | None = None) -> dict[str, Any]:
        """cgi-bin/qrcode/create with a string scene: permanent (QR_LIMIT_STR_SCENE) without `expire_seconds`,
        temporary (QR_STR_SCENE, at most 30 days) with it. Returns {ticket, url, expire_seconds?}."""

    def qrcode_image(self, ticket: str) -> WeChatImage:
        """showqrcode on mp.weixin.qq.com (WECHAT_MP_BASE_URL): a JPEG on WeChat."""

    def create_menu(self, menu: dict[str, Any]) -> None: ...
