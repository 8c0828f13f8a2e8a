"""Reporting a pickup to WeChat (wxa/sec/order/upload_shipping_info, logistics_type 4: picked up in store), so that
WeChat Pay releases the merchant's funds for the order.

Once per pickup: the handover creates a ShippingReport row in its own transaction and enqueues this job with a
fixed job id; the job claims the row (a guarded UPDATE, so a retry and the sweep never call WeChat at the same
time), calls WeChat with nothing of ours locked, and marks the row reported. A reported row is never sent again.
A transient failure raises, so RQ's Retry runs the job again; the periodic sweep catches reports whose job was lost.

WeChat allows one re-upload per payment ("每笔支付单仅有一次重新发货机会"): a retry after an unknown outcome (a
timeout after WeChat may have accepted) must not spend it, so every attempt after the first asks WeChat for the
payment's shipping state (`wxa/sec/order/get_order`) and uploads only if it is still waiting for shipment.
Errcodes (developers.weixin.qq.com/miniprogram/dev/platform-capabilities/business-capabilities/order-shipping/
order-shipping.html and the community answers of WeChat's staff quoted below) are classified: temporary ones are
retried with backoff, permanent ones are recorded on the report with the reason (`micromall` operators see
`failure_reason`) and never retried.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import or_, select, update

from app import jobs, wechat
from app.extensions import db
from app.models import Order, Payment, ShippingReport, utcnow
from app.wechat.port import WeChatError, WeChatRefused
from app.uow import commit_before_calling_wechat

log = logging.getLogger(__name__)
RETRIES_S = (30, 120, 600, 1800, 3600)
CLAIM_TIMEOUT = timedelta(seconds=60)  # a worker that died mid-call gives the row up after this
SWEEP_AFTER = timedelta(minutes=10)  # leave fresh reports to their own job and its retries
MAX_ATTEMPTS = 20
NO_PAYMENT = -2  # our own marker: the order has no Payment row to name
NOT_SHIPPABLE = -3  # our own marker: get_order says the payment was refunded
UNKNOWN = -1  # network error or timeout: WeChat may or may not have taken the upload
# Temporary: -1 system busy, quotas, and 10060001 "支付单不存在" right after payment ("支付后订单需要入库，如果查不到
#可以等待1分钟后再试", WeChat's community staff); 10060012 and 10060019 are documented as 系统错误.
TEMPORARY_ERRCODES = frozenset({UNKNOWN, 45009, 45011, 10060001, 10060012, 10060019})
# Already shipped: 10060002 "已完成发货" and 10060003 "支付单已使用重新发货机会" mean WeChat holds a shipment.
ALREADY_SHIPPED_ERRCODES = frozenset({10060002, 10060003})
REASONS = {
    10060004: "WeChat: the payment cannot be shipped (refunded or finished)",
    10060031: "WeChat: the payment does not belong to this payer openid",
    47001: "WeChat: data format error",
    268485216: "WeChat: upload_time is not RFC 3339",
    NO_PAYMENT: "no payment to report",
    NOT_SHIPPABLE: "WeChat: the payment was refunded",
}
# get_order's order_state: 1 waiting for shipment, 2 shipped, 3 received, 4 complete, 5 refunded, 6 funds pending
# settlement (seen after shipment; undocumented in the table, reported by WeChat's community).
SHIPPED_STATES = frozenset({2, 3, 4, 6})
REFUNDED_STATE = 5
LOGISTICS_SELF_PICKUP = 4
BEIJING = timezone(timedelta(hours=8))


class ShippingRetry(Exception):
    """WeChat failed transiently; raised so RQ retries the job."""


def enqueue_report(order_id: int) -> None:
    job = report_job(order_id)
    jobs.enqueue(job.func, *job.args, job_id=job.job_id, retries=job.retries)


def report_job(order_id: int) -> jobs.Job:
    """The job enqueue_report enqueues, for jobs.enqueue_all with others."""
    return jobs.Job(report_pickup, (order_id,), f"shipping-{order_id}", RETRIES_S)


def _claim(order_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(ShippingReport)
        .where(ShippingReport.order_id == order_id, ShippingReport.reported_at.is_(None),
               or_(ShippingReport.claimed_at.is_(None), ShippingReport.claimed_at < now - CLAIM_TIMEOUT))
        .values(claimed_at=now, attempts=ShippingReport.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def shipping_payload(order: Order, payment: Payment, now: datetime) -> dict:
    if payment.transaction_id:
        order_key = {"order_number_type": 2, "transaction_id": payment.transaction_id}
    else:
        order_key = {"order_number_type": 1, "mchid": current_app.config["WECHATPAY_MCHID"],
                     "out_trade_no": payment.out_trade_no}
    description = "; ".join(f"{i.title} {i.spec}×{i.quantity}" for i in order.items)
    return {
        "order_key": order_key,
        "logistics_type": LOGISTICS_SELF_PICKUP,
        "delivery_mode": 1,  # UNIFIED_DELIVERY: everything in one handover
        "shipping_list": [{"item_desc": description[:120] or order.order_no}],
        # WeChat wants RFC 3339; Beijing time as the merchant console shows it.
        "upload_time": now.astimezone(BEIJING).isoformat(timespec="seconds"),
        "payer": {"openid": payment.payer_openid},
    }


def is_permanent(errcode: int | None) -> bool:
    return errcode is not None and errcode not in TEMPORARY_ERRCODES and errcode not in ALREADY_SHIPPED_ERRCODES


def _finish(order_id: int, errcode: int | None, reason: str | None = None) -> None:
    values: dict = {"claimed_at": None, "last_errcode": errcode}
    if errcode is None:
        values["reported_at"] = utcnow()
    if reason:
        values["failure_reason"] = reason[:200]
    db.session.execute(update(ShippingReport).where(ShippingReport.order_id == order_id).values(**values)
                       .execution_options(synchronize_session=False))


@jobs.job
def report_pickup(order_id: int) -> str:
    """Job: "reported", "skipped" (already reported, or being reported right now), "no_payment" or "refused"
    (a permanent error, recorded); raises ShippingRetry on a transient failure."""
    try:
        outcome = _report(order_id)
    except ShippingRetry:
        db.session.commit()  # the transient errcode is kept; the claim is released for the retry
        raise
    db.session.commit()
    return outcome


def _report(order_id: int) -> str:
    """The claim is committed before WeChat is called (a concurrent run waits on its row, then skips)."""
    if not _claim(order_id, utcnow()):
        return "skipped"
    order = db.session.get(Order, order_id)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
    if order is None or payment is None:
        log.error("shipping report for order %s: no payment to report", order_id)
        _finish(order_id, NO_PAYMENT, REASONS[NO_PAYMENT])
        return "no_payment"
    payload = shipping_payload(order, payment, utcnow())
    attempts = db.session.get(ShippingReport, order_id).attempts
    commit_before_calling_wechat()
    api = wechat.api("miniprogram")
    try:
        if attempts > 1:  # an earlier attempt may have reached WeChat: look before spending the re-upload
            state = _shipping_state(api, payment)
            if state in SHIPPED_STATES:
                _finish(order_id, None)
                return "reported"
            if state == REFUNDED_STATE:
                _finish(order_id, NOT_SHIPPABLE, REASONS[NOT_SHIPPABLE])
                log.error("shipping report for order %s refused: the payment was refunded", order_id)
                return "refused"
        api.upload_shipping_info(payload)
    except WeChatError as exc:
        errcode = exc.errcode if exc.errcode is not None else UNKNOWN
        if errcode in ALREADY_SHIPPED_ERRCODES:
            _finish(order_id, None)
            return "reported"
        if isinstance(exc, WeChatRefused) and is_permanent(errcode):
            reason = REASONS.get(errcode) or f"WeChat errcode {errcode}: {exc.errmsg or ''}".strip()
            _finish(order_id, errcode, reason)
            log.error("shipping report for order %s refused: %s", order_id, reason)
            return "refused"
        _finish(order_id, errcode)
        raise ShippingRetry(f"order {order_id}: errcode {errcode}") from exc
    _finish(order_id, None)
    return "reported"


def _shipping_state(api, payment: Payment) -> int | None:
    """get_order's order_state; None when WeChat does not know the payment yet (10060001)."""
    try:
        if payment.transaction_id:
            order = api.shipping_order(transaction_id=payment.transaction_id)
        else:
            order = api.shipping_order(merchant_id=current_app.config["WECHATPAY_MCHID"],
                                       merchant_trade_no=payment.out_trade_no)
    except WeChatRefused as exc:
        if exc.errcode == 10060001:
            return None
        raise
    state = order.get("order_state")
    return int(state) if isinstance(state, int) else None


@jobs.job
def report_unreported_pickups() -> int:
    """Periodic: enqueue the reports whose job was lost or ran out of retries (a transient error last time)."""
    order_ids = list(db.session.scalars(
        select(ShippingReport.order_id)
        .where(ShippingReport.reported_at.is_(None), ShippingReport.created_at < utcnow() - SWEEP_AFTER,
               ShippingReport.attempts < MAX_ATTEMPTS,
               ShippingReport.failure_reason.is_(None))
        .order_by(ShippingReport.created_at).limit(200)))
    for order_id in order_ids:
        # The handover's key: a report whose job still waits or runs is not enqueued twice.
        jobs.enqueue(report_pickup, order_id, job_id=f"shipping-{order_id}", retries=RETRIES_S)
    db.session.commit()
    return len(order_ids)
