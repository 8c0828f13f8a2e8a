"""Typed failures of the WeChat Pay v3 protocol, all under one `WeChatPayError` so callers can catch the family."""
from __future__ import annotations


class WeChatPayError(Exception):
    """Base of every error this package raises."""


class VerificationError(WeChatPayError):
    """A response or notification could not be proven to come from WeChat Pay; its content must not be trusted."""


class MissingHeadersError(VerificationError):
    """One of Wechatpay-Timestamp, -Nonce, -Signature or -Serial is absent or empty."""


class UnknownSerialError(VerificationError):
    """Wechatpay-Serial names no key we hold (or a platform certificate outside its validity)."""


class TimestampError(VerificationError):
    """Wechatpay-Timestamp is not a number or lies outside the allowed window (replay or clock skew)."""


class BadSignatureError(VerificationError):
    """The signature does not verify against the message with the key the serial names."""


class SignTestProbe(VerificationError):
    """WeChat Pay's signature probe (`WECHATPAY/SIGNTEST/…`): it checks that we reject unverifiable messages."""


class DecryptError(WeChatPayError):
    """An encrypted resource could not be decrypted (wrong key, tampered data, unknown algorithm, not JSON)."""


class MalformedMessageError(WeChatPayError):
    """A verified body is not the JSON shape the protocol promises."""


class WeChatPayAPIError(WeChatPayError):
    """WeChat Pay answered with a non-2xx status and its `{"code", "message"}` error body.

    `verified` tells whether the error answer itself carried a valid signature; only then may a caller act on the
    code (e.g. ORDERPAID) rather than merely treat the call as failed.
    """

    def __init__(self, status: int, code: str, message: str, *, verified: bool = False) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.verified = verified

    @property
    def retryable(self) -> bool:
        # WeChat Pay asks for a retry with identical parameters on SYSTEM_ERROR (5xx) and FREQUENCY_LIMITED (429).
        return self.status >= 500 or self.status == 429


class WeChatPayTransportError(WeChatPayError):
    """The request did not get an answer (connection refused, DNS, timeout): transient, safe to retry the same call."""
