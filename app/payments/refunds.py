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
from app.uow import commit_before_calling_wechat

log = logging.getLogger(__name__)
S = OrderStatus
REFUND_RETRIES_S = (10, 60, 300, 1800, 7200)
RECHECK_RETRIES_S = (600, 3600, 6 * 3600, 24 * 3600)


def start_refund(order: Order, reason: str, actor: str, already_refunding: bool = False) -> Refund:
    """paid|ready (or refund_failed, by a person) -> refunding; the stock goes back to the store and the pickup
    code dies in the same transaction; the request to WeChat is enqueued after the commit. The caller commits."""
    from app.pickup.codes import revoke_for_order

    if not already_refunding:
        transition(order, S.REFUNDING, reason, actor)
    release_for_order(order)
    revoke_for_order(order)
    if reason == "customer_cancel":  # cancelled before pickup: the coupon is the customer's again (issue 18)
        from app.coupons.wallet import give_back

        give_back(order)
    attempt = db.session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order.id)) or 0
    refund = Refund(order_id=order.id, out_refund_no=f"R{order.order_no}" + (f"-{attempt}" if attempt else ""),
                    amount_fen=order.payable_fen, reason=reason, status="requested")
    db.session.add(refund)
    db.session.flush()
    jobs.enqueue(request_refund, refund.id, job_id=f"refund-request-{refund.id}",
                 retries=REFUND_RETRIES_S)
    return refund


@jobs.job
def request_refund(refund_id: int) -> str:
    """Job: ask WeChat Pay for the refund. Retries reuse the same out_refund_no, so WeChat makes it once; asked
    again about a refund still `processing` (the sweep), WeChat answers with its current state."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status not in ("requested", "processing"):
        return "nothing_to_do"
    order = db.session.get(Order, refund.order_id)
    commit_before_calling_wechat()
    try:
        state = gateway().refund(out_trade_no=order.order_no, out_refund_no=refund.out_refund_no,
                                 refund_fen=refund.amount_fen, total_fen=order.payable_fen, reason=_reason_text(refund))
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
            "late_payment_no_stock": "支付时订单已超时且库存不足，自动退款", "operator_retry": "退款重试"}.get(refund.reason, "退款")


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
    # An ABNORMAL refund is not final: WeChat Pay can still finish it (the merchant handles it in the merchant
    # platform, or by apply-abnormal-refund), so SUCCESS is taken from refund_failed too.
    if status == "success" and order.status in (S.REFUNDING.value, S.REFUND_FAILED.value):
        transition(order, S.REFUNDED, "refund_succeeded", actor)
        reverse_for_order(order, actor)  # commission earned on it goes back, once (issue 17)
        enqueue_order_notification(order, "refunded")
        return "refunded"
    if status in ("abnormal", "closed") and order.status == S.REFUNDING.value:
        transition(order, S.REFUND_FAILED, f"refund_{status}", actor)
        log.error("refund %s of order %s is %s: needs a person (micromall refunds retry %s)", refund.out_refund_no,
                  order.order_no, status, order.order_no)
        if status == "abnormal":  # asked again later: it may still turn SUCCESS
            jobs.enqueue(recheck_refund, refund.id, job_id=f"refund-recheck-{refund.id}",
                         retries=RECHECK_RETRIES_S)
        return "refund_failed"
    return status


class RefundStillAbnormal(Exception):
    """Raised by the recheck job so RQ asks again later."""


@jobs.job
def recheck_refund(refund_id: int) -> str:
    """Job: query an ABNORMAL refund again; raises while WeChat still says ABNORMAL (RQ retries)."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != "abnormal":
        return "nothing_to_do"
    commit_before_calling_wechat()
    state = gateway().query_refund(refund.out_refund_no)
    outcome = apply_refund_state(refund, state, "wechatpay:refund_query")
    db.session.commit()
    if state.status.upper() == "ABNORMAL":
        raise RefundStillAbnormal(refund.out_refund_no)
    return outcome


def retry_refund(order: Order, actor: str) -> str:
    """`micromall refunds retry ORDER_NO`: for an order in refund_failed. WeChat is asked about the last refund
    first (an ABNORMAL one may have been finished meanwhile); a CLOSED one is requested anew under a new
    out_refund_no; one still ABNORMAL is left to the merchant platform (the money is held by WeChat Pay and a
    second refund would exceed the refundable amount). Flushes; the command commits."""
    if order.status != S.REFUND_FAILED.value:
        return f"not_refund_failed:{order.status}"
    last = db.session.scalar(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id.desc()).limit(1))
    if last is not None and last.status in ("abnormal", "processing"):
        commit_before_calling_wechat()
        outcome = apply_refund_state(last, gateway().query_refund(last.out_refund_no), actor)
        if outcome == "refunded":
            return "refunded"
        if last.status == "abnormal":
            return "still_abnormal"
    start_refund(order, "operator_retry", actor)
    return "requested"
