"""A store's funnel over a period: who arrived through which door, and who went on to pay. The official account's
store QR codes (scene `store_<id>`, which attribute a follower to the store on first follow) are one door; the
store's counter code and its staff codes in the mini-program are the others."""
from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, func, select

from app.commission.periods import Period
from app.extensions import db
from app.models import AttributionEvent, Follower, Order, OrderAttribution, Payment


def store_funnel(store_id: int, period: Period) -> dict[str, Any]:
    def arrivals(*outcomes: str) -> int:
        return db.session.scalar(select(func.count(distinct(AttributionEvent.customer_id))).where(
            AttributionEvent.store_id == store_id, AttributionEvent.outcome.in_(outcomes),
            AttributionEvent.at >= period.start, AttributionEvent.at < period.end)) or 0

    paid = (select(func.count(distinct(Order.customer_id)), func.count(Payment.id), func.sum(Payment.amount_fen))
            .join(Payment, Payment.order_id == Order.id)
            .where(Order.store_id == store_id, Payment.paid_at >= period.start, Payment.paid_at < period.end))
    customers, orders, amount = db.session.execute(paid).one()
    attributed_orders = db.session.scalar(
        select(func.count(Payment.id)).join(OrderAttribution, OrderAttribution.order_id == Payment.order_id)
        .where(OrderAttribution.store_id == store_id, Payment.paid_at >= period.start,
               Payment.paid_at < period.end)) or 0
    return {
        "official_account_follows": db.session.scalar(select(func.count(Follower.id)).where(
            Follower.source_store_id == store_id, Follower.created_at >= period.start,
            Follower.created_at < period.end)) or 0,
        "store_code_arrivals": arrivals("store"),
        "staff_code_arrivals": arrivals("attributed", "kept"),
        "customers_attributed_to_staff": arrivals("attributed"),
        "paying_customers": int(customers or 0), "paid_orders": int(orders or 0),
        "amount_paid_fen": int(amount or 0), "paid_orders_with_a_seat": attributed_orders,
    }
