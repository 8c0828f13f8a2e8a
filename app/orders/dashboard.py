"""The owner's dashboard figures: orders and revenue per store per day, minutes from paid to ready and from ready
to picked up (median and 90th percentile), the no-show rate, the funnel from store QR followers to orders, and the
top products. Computed from the order event log, so every figure can be traced back to rows."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Follower, Order, OrderEvent, OrderItem, OrderStatus, utcnow
from app.payments.ledger import local_day

S = OrderStatus
COUNTED = (S.PAID.value, S.READY.value, S.PICKED_UP.value, S.REFUNDING.value, S.REFUNDED.value,
           S.REFUND_FAILED.value)


@dataclass
class Dashboard:
    days: list[date]
    per_day: dict[int, dict[date, tuple[int, int]]]  # store_id -> day -> (orders, revenue_fen)
    paid_to_ready: tuple[float | None, float | None]  # (median, p90) minutes
    ready_to_pickup: tuple[float | None, float | None]
    no_show_rate: float | None
    funnel: list[tuple[str, int]]
    top_products: list[tuple[str, int, int]]  # title, quantity, revenue_fen


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def dashboard(store_ids: set[int] | None, days: int = 14, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    since = now - timedelta(days=days)
    scope = [Order.created_at >= since, Order.status.in_(COUNTED)]
    if store_ids is not None:
        scope.append(Order.store_id.in_(store_ids or [-1]))
    orders = db.session.execute(select(Order.id, Order.store_id, Order.total_fen, Order.created_at, Order.status)
                                .where(*scope)).all()
    day_list = sorted({local_day(now - timedelta(days=n)) for n in range(days)})
    per_day: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for row in orders:
        day = local_day(row.created_at)
        count, revenue = per_day[row.store_id].get(day, (0, 0))
        per_day[row.store_id][day] = (count + 1, revenue + row.total_fen)
    ids = [row.id for row in orders]
    reached: dict[int, dict[str, datetime]] = defaultdict(dict)
    no_shows = 0
    if ids:
        for event in db.session.execute(select(OrderEvent.order_id, OrderEvent.to_status, OrderEvent.reason,
                                               OrderEvent.created_at).where(OrderEvent.order_id.in_(ids))):
            reached[event.order_id].setdefault(event.to_status, event.created_at)
            no_shows += event.to_status == S.REFUNDING.value and event.reason == "no_show"
    paid_ready = [(r["ready"] - r["paid"]).total_seconds() / 60 for r in reached.values() if "paid" in r and "ready" in r]
    ready_pick = [(r["picked_up"] - r["ready"]).total_seconds() / 60 for r in reached.values()
                  if "ready" in r and "picked_up" in r]
    followers_q = select(func.count()).select_from(Follower).where(Follower.source_store_id.is_not(None))
    if store_ids is not None:
        followers_q = followers_q.where(Follower.source_store_id.in_(store_ids or [-1]))
    scanned = db.session.scalar(followers_q) or 0
    subscribed = db.session.scalar(followers_q.where(Follower.subscribed.is_(True))) or 0
    linked = db.session.scalar(followers_q.where(Follower.customer_id.is_not(None))) or 0
    ordering = db.session.scalar(
        select(func.count(func.distinct(Follower.id))).select_from(Follower)
        .join(Order, Order.customer_id == Follower.customer_id)
        .where(Follower.source_store_id.is_not(None), Order.status.in_(COUNTED),
               *([Follower.source_store_id.in_(store_ids or [-1])] if store_ids is not None else []))) or 0
    top: Counter = Counter()
    revenue_of: Counter = Counter()
    if ids:
        for title, quantity, price in db.session.execute(select(OrderItem.title, OrderItem.quantity,
                                                                OrderItem.unit_price_fen)
                                                         .where(OrderItem.order_id.in_(ids))):
            top[title] += quantity
            revenue_of[title] += quantity * price
    return Dashboard(
        days=day_list, per_day=dict(per_day),
        paid_to_ready=(percentile(paid_ready, 50), percentile(paid_ready, 90)),
        ready_to_pickup=(percentile(ready_pick, 50), percentile(ready_pick, 90)),
        no_show_rate=(no_shows / len(ids)) if ids else None,
        funnel=[("扫码关注", scanned), ("仍在关注", subscribed), ("已关联顾客", linked), ("已下单", ordering)],
        top_products=[(title, qty, revenue_of[title]) for title, qty in top.most_common(10)])
