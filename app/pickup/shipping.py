"""Reporting a pickup to WeChat (wxa/sec/order/upload_shipping_info, logistics_type 4: picked up in store), so that
WeChat Pay releases the merchant's funds for the order.

Once per pickup: the handover creates a ShippingReport row in its own transaction and enqueues this job with a
fixed job id; the job claims the row (a guarded UPDATE, so a retry and the sweep never call WeChat at the same
time), calls WeChat with nothing of ours locked, and marks the row reported. A reported row is never sent again.
A transient failure raises, so RQ's Retry runs the job again; the periodic sweep catches reports whose job was lost.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from requests import RequestException
from sqlalchemy import or_, select, update
from wechatpy.exceptions import WeChatClientException

from app import jobs, wechat
from app.extensions import db
from app.models import Order, Payment, ShippingReport, utcnow
from app.wechat.clients import WECHAT_ORIGIN
from app.uow import commit_before_calling_wechat

log = logging.getLogger(__name__)
RETRIES_S = (30, 120, 600, 1800, 3600)
CLAIM_TIMEOUT = timedelta(seconds=60)  # a worker that died mid-call gives the row up after this
SWEEP_AFTER = timedelta(minutes=10)  # leave fresh reports to their own job and its retries
MAX_ATTEMPTS = 20
NO_PAYMENT = -2  # our own marker: the order has no Payment row to name
# "data format error", a bad upload_time, no payment: the same request would fail again; a person must look.
PERMANENT_ERRCODES = (47001, 268485216, NO_PAYMENT)
LOGISTICS_SELF_PICKUP = 4
BEIJING = timezone(timedelta(hours=8))


class ShippingRetry(Exception):
    """WeChat failed transiently; raised so RQ retries the job."""


def enqueue_report(order_id: int) -> None:
    jobs.enqueue("app.pickup.shipping:report_pickup", order_id, job_id=f"shipping-{order_id}", retries=RETRIES_S)


def _claim(order_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(ShippingReport)
        .where(ShippingReport.order_id == order_id, ShippingReport.reported_at.is_(None),
               or_(ShippingReport.claimed_at.is_(None), ShippingReport.claimed_at < now - CLAIM_TIMEOUT))
        .values(claimed_at=now, attempts=ShippingReport.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
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


def _finish(order_id: int, errcode: int | None) -> None:
    values: dict = {"claimed_at": None, "last_errcode": errcode}
    if errcode is None:
        values["reported_at"] = utcnow()
    db.session.execute(update(ShippingReport).where(ShippingReport.order_id == order_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def report_pickup(order_id: int) -> str:
    """Job: "reported", "skipped" (already reported, or being reported right now), "no_payment" or "refused"
    (a permanent error, recorded); raises ShippingRetry on a transient failure."""
    if not _claim(order_id, utcnow()):
        return "skipped"
    order = db.session.get(Order, order_id)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
    if order is None or payment is None:
        log.error("shipping report for order %s: no payment to report", order_id)
        _finish(order_id, NO_PAYMENT)
        return "no_payment"
    payload = shipping_payload(order, payment, utcnow())
    commit_before_calling_wechat()
    try:
        wechat.client("miniprogram").post("wxa/sec/order/upload_shipping_info", data=payload,
                                          api_base_url=f"{WECHAT_ORIGIN}/")
    except WeChatClientException as exc:
        _finish(order_id, exc.errcode)
        if exc.errcode in PERMANENT_ERRCODES:
            log.error("shipping report for order %s refused: %s %s", order_id, exc.errcode, exc.errmsg)
            return "refused"
        raise ShippingRetry(f"order {order_id}: errcode {exc.errcode}") from exc
    except RequestException as exc:
        _finish(order_id, -1)
        raise ShippingRetry(f"order {order_id}: {exc}") from exc
    _finish(order_id, None)
    return "reported"


def report_unreported_pickups() -> int:
    """Periodic: enqueue the reports whose job was lost or ran out of retries (a transient error last time)."""
    order_ids = list(db.session.scalars(
        select(ShippingReport.order_id)
        .where(ShippingReport.reported_at.is_(None), ShippingReport.created_at < utcnow() - SWEEP_AFTER,
               ShippingReport.attempts < MAX_ATTEMPTS,
               or_(ShippingReport.last_errcode.is_(None), ShippingReport.last_errcode.not_in(PERMANENT_ERRCODES)))
        .order_by(ShippingReport.created_at).limit(200)))
    for order_id in order_ids:
        # A job id of its own per sweep: the handover's fixed id may still sit in RQ's registry as finished.
        jobs.enqueue("app.pickup.shipping:report_pickup", order_id)
    db.session.commit()
    return len(order_ids)
