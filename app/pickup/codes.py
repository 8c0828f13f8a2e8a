"""Pickup codes: issued in the transaction that makes an order paid, revoked in the one that starts its refund.

A code is 12 digits from `secrets` (10^12 values against a few thousand live codes: guessing one is hopeless, and
the rate limits in app/ratelimit.py keep it so). Uniqueness is the database's job: the code is inserted unless a
unique key is taken (app/insert_unless_taken.py: one statement, no SAVEPOINT, the caller's transaction untouched);
taken, it is the order's code already there (one per order, by its unique order_id) or a collision of codes (the
key covers every code ever issued: about one draw in a million collides after a million orders), and we draw
again.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient_to_detached

from app.extensions import db
from app.insert_unless_taken import insert_unless_taken
from app.models import Order, Payment, PickupCode, utcnow

CODE_DIGITS = 12
_DRAWS = 8  # a collision is ~1e-6 likely per draw (a million codes issued); eight in a row: something is wrong
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
    Valid until the pickup deadline: the payment time (`paid_at`, else the Payment row's, else now) +
    PICKUP_WINDOW_H. Flushes, does not commit.

    No read first: the INSERT itself finds out, by the unique order_id, whether the order has its code already,
    and only then is it read. The caller making an order paid (app/payments/service._on_paid) is the only one
    that issues codes and an order is made paid once (app/orders/state.TRANSITIONS), so its code is new."""
    # In UTC like every stored time (WeChat's success_time comes with +08:00): the session's object is as read.
    expires_at = ((paid_at or _paid_at(order)) + timedelta(hours=current_app.config["PICKUP_WINDOW_H"])
                  ).astimezone(timezone.utc)
    for _ in range(_DRAWS):
        values = dict(order_id=order.id, store_id=order.store_id, code=_draw(), created_at=utcnow(),
                      expires_at=expires_at)
        code_id = insert_unless_taken(db.session(), PickupCode.__table__, values)
        if code_id is not None:
            return _as_persistent(PickupCode(id=code_id, **values))
        existing = code_for_order(order.id)
        if existing is not None:  # the order has its code already (a repeat, or another transaction first)
            return existing
    raise RuntimeError(f"could not draw a free pickup code for order {order.order_no} in {_DRAWS} tries")


def _as_persistent(pickup: PickupCode) -> PickupCode:
    """The row just inserted as the session's object for it, without reading it back (its other columns are NULL,
    as inserted)."""
    for name in ("revoked_at", "redeemed_at", "redeemed_by_seat_id", "qr_token_hash", "qr_expires_at"):
        setattr(pickup, name, None)
    make_transient_to_detached(pickup)
    db.session.add(pickup)
    return pickup


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
