"""No-shows: paid (or ready) orders whose pickup deadline passed are refunded through the payments refund path,
which puts the stock back and revokes the code. Periodic and safe to run twice: the refund's guarded transition
lets one run through, and an order already refunding is no longer due."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import Order, PickupCode, utcnow
from app.orders.state import ConcurrentTransition, InvalidTransition
from app.payments.refunds import start_refund
from app.pickup.handover import REDEEMABLE
from app.uow import item_unit

log = logging.getLogger(__name__)


def due_no_show_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    return list(db.session.scalars(
        select(Order.id).join(PickupCode, PickupCode.order_id == Order.id)
        .where(Order.status.in_(REDEEMABLE), PickupCode.expires_at <= (now or utcnow()),
               PickupCode.redeemed_at.is_(None))
        .order_by(PickupCode.expires_at).limit(limit)))


def refund_no_show(order_id: int, now: datetime | None = None) -> bool:
    """Refund one order past its pickup deadline. Returns whether this call started the refund (one that lost the
    race wrote nothing). Flushes; the periodic job commits each order on its own."""
    order = db.session.get(Order, order_id)
    code = db.session.scalar(select(PickupCode).where(PickupCode.order_id == order_id))
    if (order is None or code is None or order.status not in REDEEMABLE or code.redeemed_at is not None
            or code.expires_at > (now or utcnow())):
        return False
    try:
        start_refund(order, "no_show", "system:no_show")
    except (ConcurrentTransition, InvalidTransition):  # handed over or refunded at this very moment
        return False
    return True


@jobs.job
def refund_no_shows() -> int:
    """Periodic job. One order that fails (WeChat, a bug) is logged and skipped, so it cannot hold up the rest."""
    refunded = 0
    for order_id in due_no_show_ids():
        with item_unit(f"no-show refund of order {order_id}", keep_going=True):
            refunded += refund_no_show(order_id)
    if refunded:
        log.info("refunded %d no-show orders", refunded)
    return refunded
