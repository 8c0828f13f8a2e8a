"""When a cancelled order's WeChat order may be closed.

WeChat Pay: "订单生成后不能马上调用关单接口，最短调用时间间隔为 5 分钟" (close-order API, pay.weixin.qq.com/docs/merchant/
apis/jsapi-payment/close-order.html). A customer who cancels at once leaves the close to the periodic job below.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import Order, OrderStatus, Payment, utcnow

CLOSE_AFTER = timedelta(minutes=5)


def close_allowed(payment: Payment, now: datetime | None = None) -> bool:
    return payment.created_at <= (now or utcnow()) - CLOSE_AFTER


def close_cancelled_at_wechat(limit: int = 200) -> int:
    """Periodic (through app.sweeps.sweep_unclosed_orders): enqueue the close of cancelled orders' WeChat orders
    that are now old enough and not closed. Flushes; the sweep commits."""
    from app.orders.cancellation import CLOSE_RETRIES_S
    from app.payments.reconciliation import close_at_wechat  # both import this module

    order_ids = list(db.session.scalars(
        select(Payment.order_id).join(Order, Order.id == Payment.order_id)
        .where(Order.status == OrderStatus.CANCELLED.value, Payment.prepay_id.is_not(None),
               Payment.transaction_id.is_(None), Payment.closed_at.is_(None),
               Payment.created_at <= utcnow() - CLOSE_AFTER)
        .order_by(Payment.created_at).limit(limit)))
    for order_id in order_ids:
        jobs.enqueue(close_at_wechat, order_id, job_id=f"close-{order_id}", retries=CLOSE_RETRIES_S)
    return len(order_ids)
