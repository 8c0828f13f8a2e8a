"""Pickup codes: issued in the transaction that makes an order paid, revoked in the one that starts its refund.

A code is 12 digits from `secrets` (10^12 values against a few thousand live codes: guessing one is hopeless, and
the rate limits in app/ratelimit.py keep it so). Uniqueness is the database's job: the unique index refuses a
collision and we draw again inside a savepoint, so the caller's transaction is untouched.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Order, Payment, PickupCode, utcnow

CODE_DIGITS = 12
_DRAWS = 8  # a collision is ~1e-9 likely per draw; eight in a row means something else is wrong
_SEPARATORS = re.compile(r"[\s-]+")


def _draw() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def format_code(code: str) -> str:
    """"123456789012" -> "1234 5678 9012", as the customer reads it out."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(raw: str) -> str | None:
    """What staff typed, without the grouping spaces or dashes; None unless it is 12 digits."""
    digits = _SEPARATORS.sub("", raw)
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


def code_for_order(order_id: int) -> PickupCode | None:
    return db.session.scalar(select(PickupCode).where(PickupCode.order_id == order_id))


def _paid_at(order: Order) -> datetime:
    paid_at = db.session.scalar(select(Payment.paid_at).where(Payment.order_id == order.id))
    return paid_at or utcnow()


def issue_for_order(order: Order, paid_at: datetime | None = None) -> PickupCode:
    """The order's pickup code, created if it has none (so a repeated payment notification gets the same code).
    Valid until the pickup deadline: the payment time (the Payment row's `paid_at`, else now) + PICKUP_WINDOW_H.
    Flushes, does not commit."""
    existing = code_for_order(order.id)
    if existing is not None:
        return existing
    expires_at = (paid_at or _paid_at(order)) + timedelta(hours=current_app.config["PICKUP_WINDOW_H"])
    for _ in range(_DRAWS):
        pickup = PickupCode(order_id=order.id, store_id=order.store_id, code=_draw(), expires_at=expires_at)
        try:
            with db.session.begin_nested():
                db.session.add(pickup)
            return pickup
        except IntegrityError:
            existing = code_for_order(order.id)
            if existing is not None:  # another transaction issued this order's code first
                return existing
    raise RuntimeError(f"could not draw a free pickup code for order {order.order_no} in {_DRAWS} tries")


def revoke_for_order(order: Order) -> bool:
    """Kill the order's code (refund, cancellation). Idempotent, and a no-op without a code or after the handover.
    Returns whether this call revoked it. Flushes, does not commit."""
    result = db.session.execute(
        update(PickupCode)
        .where(PickupCode.order_id == order.id, PickupCode.revoked_at.is_(None), PickupCode.redeemed_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1
