"""Ending an unpaid order: by the customer, or by the payment timeout. Stock goes back exactly once."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.catalog.stock import release_for_order
from app.coupons.wallet import give_back
from app.extensions import db
from app.models import Order, OrderStatus, utcnow
from app import jobs
from app.orders.state import ConcurrentTransition, InvalidTransition, transition
from app.payments.closing import close_allowed

CLOSE_RETRIES_S = (10, 60, 300)  # close_at_wechat raises on a transient WeChat Pay error

log = logging.getLogger(__name__)


def cancel_unpaid(order: Order, reason: str, actor: str) -> None:
    """pending_payment -> cancelled and the stock back to the store, in the caller's transaction. Raises
    ConcurrentTransition when a racing change (payment, the other canceller) got there first."""
    transition(order, OrderStatus.CANCELLED, reason, actor)
    release_for_order(order)
    give_back(order)  # the coupon it locked is the customer's again


def cancel_by_customer(order: Order, customer_id: int) -> None:
    """Unpaid: cancelled, stock back, and its WeChat order closed after the commit. Paid and not picked up: the
    refund starts. The caller commits."""
    from app.payments.refunds import start_refund

    actor = f"customer:{customer_id}"
    if order.status == OrderStatus.PENDING_PAYMENT.value:
        cancel_unpaid(order, "customer_cancel", actor)
        # WeChat Pay: a WeChat order may be closed no sooner than 5 minutes after it was created; a younger one
        # is closed by the periodic `close_cancelled_at_wechat`, and a payment slipping in meanwhile takes the
        # late-payment path.
        if order.payment is not None and close_allowed(order.payment):
            from app.payments.reconciliation import close_at_wechat  # it imports this module

            jobs.enqueue(close_at_wechat, order.id, job_id=f"close-{order.id}", retries=CLOSE_RETRIES_S)
    elif order.status in (OrderStatus.PAID.value, OrderStatus.READY.value):
        start_refund(order, "customer_cancel", actor)
    else:
        raise InvalidTransition(order.order_no, order.status, OrderStatus.CANCELLED.value)


def due_order_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    return list(db.session.scalars(
        select(Order.id).where(Order.status == OrderStatus.PENDING_PAYMENT.value, Order.expires_at <= (now or utcnow()))
        .order_by(Order.expires_at).limit(limit)
    ))


def expire_order(order_id: int, now: datetime | None = None) -> bool:
    """Cancel one unpaid order past its expiry. Safe to run twice and against a customer cancelling at the same
    moment: the guarded transition lets one of them through (the other writes nothing). Returns whether this call
    cancelled it. Asks WeChat Pay first (settle_before_expiry commits before each call); then flushes, and the
    periodic job commits each order on its own."""
    from app.payments.reconciliation import settle_before_expiry

    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.PENDING_PAYMENT.value or order.expires_at > (now or utcnow()):
        return False
    if not settle_before_expiry(order):  # paid after all, or WeChat Pay could not be asked: not now
        return False
    try:
        cancel_unpaid(order, "payment_timeout", "system:payment_timeout")
    except ConcurrentTransition:
        return False
    return True
