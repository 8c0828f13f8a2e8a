"""Judging promises: each paid order is judged once, after its promised time plus the store's grace. Ready (or
handed over) by then: kept. Not: late, and the customer gets the store's compensation coupon, once.

The judgement is a guarded UPDATE on promise_outcome IS NULL, so two runs of the periodic job (an overlap, a
restart) judge an order once; the coupon's unique (definition, source order) is the second guard."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app import jobs
from app.coupons.issuing import compensation_definition, issue
from app.extensions import db
from app.models import Order, OrderEvent, OrderStatus, utcnow
from app.promises.terms import terms_of
from app.uow import item_unit

log = logging.getLogger(__name__)
S = OrderStatus
JUDGED_STATUSES = (S.PAID.value, S.READY.value, S.PICKED_UP.value)
LOOKBACK = timedelta(days=3)  # orders refunded or cancelled before their promise are never judged: stop looking


def ready_at(order_id: int) -> datetime | None:
    """When the order was first ready (or handed over without being marked ready)."""
    return db.session.scalar(select(func.min(OrderEvent.created_at)).where(
        OrderEvent.order_id == order_id, OrderEvent.to_status.in_((S.READY.value, S.PICKED_UP.value))))


def due_order_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(
        select(Order.id).where(Order.promise_outcome.is_(None), Order.promised_ready_at <= now,
                               Order.promised_ready_at >= now - LOOKBACK, Order.status.in_(JUDGED_STATUSES))
        .order_by(Order.promised_ready_at).limit(limit)))


def judge(order_id: int, now: datetime | None = None) -> str | None:
    """Judge one order if its time has come. Returns "kept", "late" or None (not yet, or judged already); nothing is
    written unless it judges. Flushes; the periodic job commits each order on its own."""
    now = now or utcnow()
    order = db.session.get(Order, order_id)
    if order is None or order.promise_outcome is not None or order.promised_ready_at is None:
        return None
    terms = terms_of(order.store_id)
    deadline = order.promised_ready_at + timedelta(minutes=terms.grace_minutes)
    ready = ready_at(order.id)
    if ready is not None and ready <= deadline:
        outcome = "kept"
    elif now > deadline and order.status in JUDGED_STATUSES:
        outcome = "late"
    else:
        return None
    claimed = db.session.execute(
        update(Order).where(Order.id == order.id, Order.promise_outcome.is_(None))
        .values(promise_outcome=outcome).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # judged by an overlapping run: it wrote nothing here
        return None
    if outcome == "late" and terms.compensation_fen > 0:
        # Always issued, whatever the store's figures: the late store pays (the coupon is valid there only).
        definition = compensation_definition(order.store_id, terms.compensation_fen)
        issue(definition, order.customer_id, source_order_id=order.id, now=now)
        log.info("order %s was late: compensation coupon of %d fen", order.order_no, terms.compensation_fen)
    if outcome == "late":
        _tell_customer(order)
    return outcome


def _tell_customer(order: Order) -> None:
    """The customer's message: the order notification of kind "late" (sent once per order and channel; today the
    official account's order-status template carries it, as there is no SUBSCRIBE_TEMPLATE_ORDER_LATE)."""
    from app.notifications.sending import enqueue_order_notification

    enqueue_order_notification(order, "late")


@jobs.job
def judge_due_orders(now: datetime | None = None) -> int:
    """Periodic: judge every order whose promise (plus grace) has passed. Returns how many were late."""
    now = now or utcnow()
    late = 0
    for order_id in due_order_ids(now):
        # One bad order must not stop the others; it is judged again next run.
        with item_unit(f"judging the promise of order {order_id}", keep_going=True):
            late += judge(order_id, now) == "late"
    return late
