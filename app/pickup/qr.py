"""QR tokens: what the customer's app shows as a QR code for the staff app to scan.

A token names the order and its code, is signed with SECRET_KEY (itsdangerous, with a salt of its own so no other
signed value of the app can pass for one) and lives a few minutes: a photo of someone's screen is soon worthless,
and the customer's app simply asks for a fresh one. Verifying a token proves only that we issued it; whether the
code is still good is then checked against the database like a typed code.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

QR_TOKEN_TTL_S = 300
_SALT = "micromall.pickup.qr.v1"


@dataclass(frozen=True)
class QrClaim:
    order_no: str
    code: str


class QrTokenError(Exception):
    def __init__(self, reason: str) -> None:  # "expired" or "invalid"
        super().__init__(reason)
        self.reason = reason


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_qr_token(order_no: str, code: str) -> tuple[str, datetime]:
    """(token, expires_at). The expiry is computed from the token's own signed timestamp."""
    serializer = _serializer()
    token = serializer.dumps({"o": order_no, "c": code})
    _, signed_at = serializer.loads(token, return_timestamp=True)
    return token, signed_at.astimezone(timezone.utc) + timedelta(seconds=QR_TOKEN_TTL_S)


def read_qr_token(token: str) -> QrClaim:
    """The order and code a token names; QrTokenError("expired") or ("invalid") otherwise."""
    try:
        data = _serializer().loads(token, max_age=QR_TOKEN_TTL_S)
    except SignatureExpired:
        raise QrTokenError("expired") from None
    except BadData:  # a bad signature, a malformed token, an undecodable payload
        raise QrTokenError("invalid") from None
    if not (isinstance(data, dict) and isinstance(data.get("o"), str) and isinstance(data.get("c"), str)):
        raise QrTokenError("invalid")
    return QrClaim(data["o"], data["c"])
