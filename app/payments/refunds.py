"""Refunds: started in the transaction that moves the order to refunding, asked of WeChat by a retried job, and
finished once by WeChat's refund notification (or the answer to the request itself)."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from app import jobs
from app.catalog.stock import release_for_order
from app.extensions import db
from app.models import Order, OrderStatus, Refund
from app.orders.state import transition
from app.payments.gateway import GatewayError, RefundState, gateway

log = logging.getLogger(__name__)
S = OrderStatus
REFUND_RETRIES_S = (10, 60, 300, 1800, 7200)


def start_refund(order: Order, reason: str, actor: str, already_refunding: bool = False) -> Refund:
    """paid|ready (or refund_failed, by a person) -> refunding; the stock goes back to the store and the pickup
    code dies in the same transaction; the request to WeChat is enqueued after the commit. The caller commits."""
    from app.pickup.codes import revoke_for_order

    if not already_refunding:
        transition(order, S.REFUNDING, reason, actor)
    release_for_order(order)
    revoke_for_order(order)
    attempt = db.session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order.id)) or 0
    refund = Refund(order_id=order.id, out_refund_no=f"R{order.order_no}" + (f"-{attempt}" if attempt else ""),
                    amount_fen=order.total_fen, reason=reason, status="requested")
    db.session.add(refund)
    db.session.flush()
    jobs.enqueue("app.payments.refunds:request_refund", refund.id, job_id=f"refund-request-{refund.id}",
                 retries=REFUND_RETRIES_S)
    return refund


def request_refund(refund_id: int) -> str:
    """Job: ask WeChat Pay for the refund. Retries reuse the same out_refund_no, so WeChat makes it once."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != "requested":
        return "nothing_to_do"
    order = db.session.get(Order, refund.order_id)
    db.session.commit()  # no transaction stays open across the call to WeChat
    try:
        state = gateway().refund(out_trade_no=order.order_no, out_refund_no=refund.out_refund_no,
                                 refund_fen=refund.amount_fen, total_fen=order.total_fen, reason=_reason_text(refund))
    except GatewayError as exc:
        if exc.retryable:
            raise  # RQ retries on REFUND_RETRIES_S
        log.error("WeChat Pay refused refund %s: %s %s", refund.out_refund_no, exc.code, exc)
        apply_refund_state(refund, RefundState(refund.out_refund_no, "ABNORMAL"), "wechatpay:refund_request")
        db.session.commit()
        return "refused"
    refund.refund_id = state.refund_id
    outcome = apply_refund_state(refund, state, "wechatpay:refund_request")
    db.session.commit()
    return outcome


def _reason_text(refund: Refund) -> str:
    return {"customer_cancel": "顾客取消订单", "no_show": "超时未取货，自动退款",
            "late_payment_no_stock": "支付时订单已超时且库存不足，自动退款"}.get(refund.reason, "退款")


def apply_refund_state(refund: Refund, state: RefundState, actor: str) -> str:
    """Move the refund and its order on from what WeChat says; a repeat of a final state changes nothing."""
    from app.commission.ledger import reverse_for_order
    from app.notifications.sending import enqueue_order_notification

    status = state.status.lower()
    if refund.status in ("success", "closed") or refund.status == status:
        return "repeat"
    refund.status = status
    if state.refund_id:
        refund.refund_id = state.refund_id
    order = db.session.get(Order, refund.order_id)
    if status == "success" and order.status == S.REFUNDING.value:
        transition(order, S.REFUNDED, "refund_succeeded", actor)
        reverse_for_order(order, actor)  # commission earned on it goes back, once (issue 17)
        enqueue_order_notification(order, "refunded")
        return "refunded"
    if status in ("abnormal", "closed") and order.status == S.REFUNDING.value:
        transition(order, S.REFUND_FAILED, f"refund_{status}", actor)
        log.error("refund %s of order %s is %s: needs a person", refund.out_refund_no, order.order_no, status)
        return "refund_failed"
    return status
