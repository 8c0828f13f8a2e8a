"""Asking WeChat Pay instead of waiting to be told: before an unpaid order is cancelled, for orders whose
notification never came, and when a cancelled order's WeChat order must be closed."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from app import jobs
from app.extensions import db
from app.models import Order, OrderStatus, Payment, utcnow
from app.payments.closing import close_allowed
from app.payments.gateway import GatewayError, gateway
from app.payments.service import apply_paid_transaction, check_transaction
from app.uow import commit_before_calling_wechat

log = logging.getLogger(__name__)
S = OrderStatus
QUIET_PERIOD = timedelta(seconds=60)  # a notification normally arrives within seconds of a payment


@jobs.job
def reconcile_order(order_id: int) -> str:
    """Query WeChat Pay for an order still unpaid here (pending or cancelled); a SUCCESS found there is applied as
    if notified. Commits. Returns what it found."""
    order = db.session.get(Order, order_id)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
    if order is None or payment is None or payment.transaction_id or order.status not in (
            S.PENDING_PAYMENT.value, S.CANCELLED.value):
        return "nothing_to_do"
    commit_before_calling_wechat()
    try:
        transaction = gateway().query(order.order_no)
    except GatewayError as exc:
        log.warning("could not query WeChat Pay for %s: %s", order.order_no, exc)
        return "unreachable"
    payment.last_queried_at = utcnow()
    if transaction is None or transaction.trade_state != "SUCCESS":
        db.session.commit()
        return transaction.trade_state if transaction else "not_at_wechat"
    problem = check_transaction(transaction, order)
    if problem:
        log.error("WeChat Pay query for %s does not match: %s", order.order_no, problem)
        db.session.commit()
        return f"rejected:{problem}"
    outcome = apply_paid_transaction(order, transaction, "query")
    db.session.commit()
    return outcome


@jobs.job
def reconcile_pending_payments(limit: int = 200) -> int:
    """Periodic: orders with a prepay but no payment recorded after the quiet period are asked about (at most once
    per quiet period each), so a notification lost for good does not lose a real payment."""
    cutoff = utcnow() - QUIET_PERIOD
    order_ids = list(db.session.scalars(
        select(Payment.order_id).join(Order, Order.id == Payment.order_id)
        .where(Order.status == S.PENDING_PAYMENT.value, Payment.transaction_id.is_(None),
               Payment.prepay_id.is_not(None), Payment.created_at <= cutoff,
               or_(Payment.last_queried_at.is_(None), Payment.last_queried_at <= cutoff))
        .limit(limit)))
    return sum(1 for order_id in order_ids if reconcile_order(order_id) in ("applied", "late_paid", "late_refunded"))


def settle_before_expiry(order: Order) -> bool:
    """Called before the payment timeout cancels `order`. True when it may be cancelled now: WeChat has no
    payment for it and its WeChat order is closed (or never existed). A payment found is applied instead."""
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    if payment is None or not payment.prepay_id:
        return True
    outcome = reconcile_order(order.id)
    if outcome in ("applied", "unreachable") or outcome.startswith("rejected"):
        return False
    commit_before_calling_wechat()
    try:
        gateway().close(order.order_no)
    except GatewayError as exc:
        if exc.code == "ORDERPAID":  # paid in the instant between query and close
            reconcile_order(order.id)
            return False
        if exc.retryable:
            return False
        log.warning("closing %s at WeChat Pay: %s %s", order.order_no, exc.code, exc)
    db.session.refresh(order)
    return order.status == S.PENDING_PAYMENT.value


@jobs.job
def close_at_wechat(order_id: int) -> str:
    """Job after a customer cancels an unpaid order: close its WeChat order so it can no longer be paid. If it was
    paid meanwhile, the late-payment path takes over."""
    order = db.session.get(Order, order_id)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
    if order is None or payment is None or not payment.prepay_id or payment.closed_at is not None:
        return "nothing_to_do"
    if not close_allowed(payment):
        return "too_early"  # WeChat wants 5 minutes after creation: the periodic close takes it later
    commit_before_calling_wechat()
    try:
        gateway().close(order.order_no)
    except GatewayError as exc:
        if exc.code == "ORDERPAID":
            return reconcile_order(order_id)
        if exc.retryable:
            raise
        _mark_closed(order_id)  # e.g. ORDER_CLOSED: nothing left to close
        db.session.commit()
        return f"not_closed:{exc.code}"
    _mark_closed(order_id)
    db.session.commit()
    return "closed"


def _mark_closed(order_id: int) -> None:
    db.session.execute(update(Payment).where(Payment.order_id == order_id).values(closed_at=utcnow())
                       .execution_options(synchronize_session=False))
