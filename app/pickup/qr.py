"""QR tokens: what the customer's app shows as a QR code for the staff app to scan.

A token is an opaque random reference (`secrets`, 192 bits), not a signed copy of the pickup code: a photo of the QR
yields nothing but the token (issue 11 finding 5). Only its SHA-256 is stored, on the pickup code's row, with an
expiry a couple of minutes out; issuing a new one replaces the old, so only the latest token of an order works, and
it hands the order over once: scanned again after the handover it answers 409 `already_redeemed` (when, by whom),
like the code, and it dies with its expiry. The customer's app simply asks for a fresh one when it runs out.
Finding a token proves nothing more than that we issued it; whether the pickup is still good is then checked like a
typed code.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import PickupCode, utcnow

QR_TOKEN_TTL_S = 120
_PREFIX = "mmqr1."  # so a scanned QR that is not ours fails fast and reads as what it is
_TOKEN = re.compile(r"^mmqr1\.[A-Za-z0-9_-]{32}$")


class QrTokenError(Exception):
    def __init__(self, reason: str) -> None:  # "expired" or "invalid"
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_qr_token(pickup: PickupCode) -> tuple[str, datetime]:
    """(token, expires_at): a fresh token for this pickup, replacing the one before. Flushes; the caller commits."""
    token = _PREFIX + secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(seconds=QR_TOKEN_TTL_S)
    pickup.qr_token_hash, pickup.qr_expires_at = _hash(token), expires_at
    db.session.flush()
    return token, expires_at


def pickup_for_qr_token(token: str) -> PickupCode:
    """The pickup code whose current token this is; QrTokenError("invalid") for a token that is not (or no longer)
    one, ("expired") for one past its expiry."""
    pickup = db.session.scalar(select(PickupCode).where(PickupCode.qr_token_hash == qr_token_hash(token)))
    if pickup is None:
        raise QrTokenError("invalid")
    check_qr_token_live(pickup)
    return pickup


def qr_token_hash(token: str) -> str:
    """What the pickup code's row holds for this token (to look it up with); QrTokenError("invalid") for a token
    that cannot be one of ours."""
    if not _TOKEN.match(token):
        raise QrTokenError("invalid")
    return _hash(token)


def check_qr_token_live(pickup: PickupCode) -> None:
    """QrTokenError("expired") when the token the pickup was found by is past its expiry."""
    if pickup.qr_expires_at is None or pickup.qr_expires_at <= utcnow():
        raise QrTokenError("expired")
