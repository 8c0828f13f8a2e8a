"""Paying for an order: the prepay, and applying a transaction that WeChat Pay reports as paid (from a
notification or from a query), exactly once, including a payment that arrives after the order was cancelled."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.catalog.stock import InsufficientStock, order_lines, reserve
from app.errors import Conflict, UpstreamUnavailable
from app.extensions import db
from app.models import Customer, Order, OrderStatus, Payment, StorePromise, utcnow
from app.orders.state import change_status, transition
from app.payments.gateway import GatewayError, Transaction, gateway
from app.promises.terms import Terms, promised_ready_at, terms_from
from app.uow import commit_before_calling_wechat, record_after_rollback

log = logging.getLogger(__name__)
S = OrderStatus
# WeChat keeps a prepay_id for two hours; a new one is asked for a little before that.
PREPAY_LIFETIME = timedelta(hours=2) - timedelta(minutes=5)


def start_payment(order: Order, customer: Customer) -> dict[str, Any]:
    """The wx.requestPayment fields for an unpaid order. The amount and the payer come from the server's order and
    customer, never from the client; a prepay still valid is reused. Flushes the payment row; the view commits."""
    now = utcnow()
    if order.status != S.PENDING_PAYMENT.value:
        raise Conflict(f"Order {order.order_no} is {order.status} and cannot be paid.",
                       {"order_no": order.order_no, "status": order.status}, code="order_not_payable")
    if order.expires_at <= now:
        raise Conflict(f"Order {order.order_no} expired at {order.expires_at.isoformat()}.",
                       {"order_no": order.order_no}, code="order_expired")
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    if payment and payment.prepay_id and payment.prepay_expires_at and payment.prepay_expires_at > now:
        return gateway().payment_params(payment.prepay_id)
    commit_before_calling_wechat()
    try:
        prepay_id = gateway().prepay(out_trade_no=order.order_no, description=_description(order),
                                     total_fen=order.payable_fen, payer_openid=customer.openid,
                                     time_expire=order.expires_at)
    except GatewayError as exc:
        if exc.code == "ORDERPAID":  # paid at WeChat, notification not here yet: ask now
            from app.payments.reconciliation import reconcile_order  # it imports this module

            with record_after_rollback():  # the error answer must not drop the job that asks
                jobs.enqueue(reconcile_order, order.id, job_id=f"reconcile-{order.id}")
            raise Conflict(f"Order {order.order_no} is already paid.", {"order_no": order.order_no},
                           code="order_not_payable") from exc
        raise UpstreamUnavailable("WeChat Pay is not available right now; please try again.",
                                  {"code": exc.code}) from exc
    _save_prepay(order, customer, prepay_id, now)
    return gateway().payment_params(prepay_id)


def _description(order: Order) -> str:
    first = order.items[0].title
    more = f" 等{sum(i.quantity for i in order.items)}件" if len(order.items) > 1 or order.items[0].quantity > 1 else ""
    return f"{order.store.name}-{first}{more}"[:127]


def _save_prepay(order: Order, customer: Customer, prepay_id: str, now) -> None:
    values = dict(prepay_id=prepay_id, prepay_expires_at=min(now + PREPAY_LIFETIME, order.expires_at))
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    if payment is None:
        try:
            with db.session.begin_nested():
                db.session.add(Payment(order_id=order.id, out_trade_no=order.order_no, amount_fen=order.payable_fen,
                                       payer_openid=customer.openid, created_at=now, **values))
        except IntegrityError:  # a second tap of "pay" at the same moment: same params, same prepay at WeChat
            payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    if payment is not None:
        for name, value in values.items():
            setattr(payment, name, value)
    db.session.flush()


def check_transaction(transaction: Transaction, order: Order | PayableOrder | None) -> str | None:
    """Why this transaction must not be trusted for this order, or None. Every field WeChat signs is checked."""
    return transaction_problem(transaction, order.payable_fen if order is not None else None)


def transaction_problem(transaction: Transaction, payable_fen: int | None) -> str | None:
    """check_transaction() against what the order is to pay (`payable_fen`; None: there is no such order)."""
    if transaction.mchid != gateway().mchid:
        return "mchid_mismatch"
    if transaction.appid != gateway().appid:
        return "appid_mismatch"
    if payable_fen is None:
        return "unknown_order"
    if transaction.trade_state != "SUCCESS":
        return f"trade_state_{transaction.trade_state.lower()}"
    if transaction.total_fen != payable_fen:  # what WeChat Pay was asked for: after the coupon
        return "amount_mismatch"
    if not transaction.transaction_id:
        return "no_transaction_id"
    return None


@dataclass(frozen=True)
class PayableOrder:
    """The columns of an order that checking and applying its payment read (order_to_pay), not an ORM instance:
    the notification's first application loads, tracks and flushes no object (bench/hot_paths.py notify_first)."""
    id: int
    order_no: str
    store_id: int
    status: str
    payable_fen: int
    pickup_at: datetime | None
    coupon_id: int | None


@dataclass(frozen=True)
class ToPay:
    """An order being paid with what applying its payment reads: its payment row's id and transaction (None:
    no row) and its store's promise terms."""
    order: PayableOrder
    payment_id: int | None
    recorded_transaction_id: str | None
    terms: Terms


# The statements of a notification's first application, built once (the house pattern: app/orders/writes.py).
_o, _p, _t = Order.__table__.c, Payment.__table__.c, StorePromise.__table__.c
_TO_PAY = (select(_o.id, _o.order_no, _o.store_id, _o.status, _o.payable_fen, _o.pickup_at, _o.coupon_id,
                  _p.id.label("payment_id"), _p.transaction_id, _t.prep_minutes, _t.busy_windows, _t.grace_minutes,
                  _t.compensation_fen)
           .select_from(Order.__table__)
           .outerjoin(Payment.__table__, _p.order_id == _o.id)
           .outerjoin(StorePromise.__table__, _t.store_id == _o.store_id)
           .where(_o.order_no == bindparam("out_trade_no")))
_INSERT_PAYMENT = insert(Payment.__table__)
# The openid WeChat reports replaces the one of the prepay; none reported (NULL) keeps it.
_RECORD_TRANSACTION = (update(Payment.__table__).where(_p.id == bindparam("payment_id"))
                       .values(transaction_id=bindparam("transaction_id"), paid_at=bindparam("paid_at"),
                               payer_openid=func.coalesce(bindparam("payer_openid", type_=_p.payer_openid.type),
                                                          _p.payer_openid)))


def order_to_pay(out_trade_no: str) -> ToPay | None:
    """The order of `out_trade_no` with its payment and its store's terms, in one SELECT of the columns read (three
    were: the order, then apply_paid_transaction's payment and the promise's terms, each a round trip; then whole
    ORM rows of the three). The same transaction's snapshot as three reads, so the same rows."""
    row = db.session.execute(_TO_PAY, {"out_trade_no": out_trade_no}).first()
    if row is None:
        return None
    order = PayableOrder(row.id, row.order_no, row.store_id, row.status, row.payable_fen, row.pickup_at, row.coupon_id)
    # The row has the promise's four columns under their names: terms_from reads nothing else.
    terms = terms_from(cast(StorePromise, row) if row.prep_minutes is not None else None)
    return ToPay(order, row.payment_id, row.transaction_id, terms)


def apply_to_pay(to_pay: ToPay, transaction: Transaction, source: str) -> str:
    """apply_paid_transaction() of a checked SUCCESS transaction for the order order_to_pay() read. The common case,
    a pending order with no transaction recorded, by Core statements only: the payment recorded, the guarded
    transition with its event, the pickup code and the customer's message. Any other case (a repeat, a second
    transaction, a late payment, another status) takes the ORM path with the order loaded."""
    order = to_pay.order
    recorded = _recorded_already(order.order_no, to_pay.recorded_transaction_id, transaction)
    if recorded is not None:
        return recorded
    if order.status != S.PENDING_PAYMENT.value:
        return apply_paid_transaction(db.session.get(Order, order.id), transaction, source)
    conn = db.session.connection()
    paid_at = transaction.success_time or utcnow()
    if to_pay.payment_id is None:
        conn.execute(_INSERT_PAYMENT, dict(
            order_id=order.id, out_trade_no=order.order_no, amount_fen=order.payable_fen,
            payer_openid=transaction.payer_openid or "", transaction_id=transaction.transaction_id, paid_at=paid_at,
            created_at=utcnow()))
    else:
        conn.execute(_RECORD_TRANSACTION, dict(payment_id=to_pay.payment_id, transaction_id=transaction.transaction_id,
                                               paid_at=paid_at, payer_openid=transaction.payer_openid or None))
    # The unique transaction_id stops a concurrent second recording above (IntegrityError), as the flush did.
    change_status(conn, order.id, order.order_no, order.status, S.PAID, "payment_received", f"wechatpay:{source}",
                  also=_promise(order, to_pay.terms))
    _on_paid(order, paid_at)
    return "applied"


def apply_paid_transaction(order: Order, transaction: Transaction, source: str) -> str:
    """Record a checked SUCCESS transaction against its order, once. Returns the outcome; the caller commits.

    - pending_payment -> paid.
    - cancelled (a late payment): paid again if its stock can be taken again, else refunding (automatic refund).
    - already recorded with this transaction_id: a repeat, nothing changes.
    """
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    recorded = _recorded_already(order.order_no, payment.transaction_id if payment else None, transaction)
    if recorded is not None:
        return recorded
    payment = _record_transaction(order, payment, transaction)
    actor = f"wechatpay:{source}"
    if order.status == S.PENDING_PAYMENT.value:
        # The promised ready time is written by the transition's own UPDATE, not by one more.
        transition(order, S.PAID, "payment_received", actor, also=_promise(order))
        _on_paid(order, payment.paid_at)
        return "applied"
    if order.status == S.CANCELLED.value:
        return _apply_late_payment(order, actor, payment.paid_at)
    log.warning("payment for order %s in status %s recorded without a transition", order.order_no, order.status)
    return f"recorded_in_{order.status}"


def _recorded_already(order_no: str, recorded_transaction_id: str | None, transaction: Transaction) -> str | None:
    """The outcome when the order's payment holds a transaction already (this one: a repeat), else None."""
    if recorded_transaction_id is None:
        return None
    if recorded_transaction_id == transaction.transaction_id:
        return "repeat"
    log.error("order %s paid twice: %s then %s", order_no, recorded_transaction_id, transaction.transaction_id)
    return "second_transaction_needs_a_person"


def _record_transaction(order: Order, payment: Payment | None, transaction: Transaction) -> Payment:
    if payment is None:
        payment = Payment(order_id=order.id, out_trade_no=order.order_no, amount_fen=order.payable_fen,
                          payer_openid=transaction.payer_openid or "")
        db.session.add(payment)
    payment.transaction_id = transaction.transaction_id
    payment.paid_at = transaction.success_time or utcnow()
    if transaction.payer_openid:
        payment.payer_openid = transaction.payer_openid
    db.session.flush()  # the unique transaction_id stops a concurrent second recording here
    return payment


def _apply_late_payment(order: Order, actor: str, paid_at: datetime) -> str:
    try:
        with db.session.begin_nested():
            reserve(order.store_id, order_lines(order))
    except InsufficientStock:
        from app.payments.refunds import start_refund

        transition(order, S.REFUNDING, "late_payment_no_stock", actor)
        start_refund(order, "late_payment_no_stock", actor, already_refunding=True)
        return "late_refunded"
    transition(order, S.PAID, "late_payment_rereserved", actor, also={"stock_reserved": True, **_promise(order)})
    _on_paid(order, paid_at)
    return "late_paid"


def _promise(order: Order | PayableOrder, terms: Terms | None = None) -> dict[str, datetime]:
    """The promised ready time of an order being paid now, as a column of the transition's UPDATE. `terms`: the
    store's as the caller read them (else read here)."""
    return {"promised_ready_at": promised_ready_at(cast(Order, order), utcnow(), terms)}


def _on_paid(order: Order | PayableOrder, paid_at: datetime) -> None:
    """What follows a payment, in the same transaction (the promised ready time came with the transition): the
    pickup code, valid from `paid_at`, the payment's time; the coupon spent; after the commit: the customer's
    message."""
    from app.coupons.wallet import use_for_order
    from app.notifications.sending import enqueue_order_notification
    from app.pickup.codes import issue_for_order

    # They read only columns a PayableOrder has too (id, order_no, store_id, coupon_id, pickup_at).
    paid = cast(Order, order)
    issue_for_order(paid, paid_at)
    use_for_order(paid)
    enqueue_order_notification(paid, "paid")
