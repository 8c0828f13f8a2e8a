"""What a seat sees of itself, and the store's leaderboard. Every figure is a query over append-only rows
(attribution events, order tags, redemptions, ledger lines), so a seat moved to another store keeps its history:
its own stats follow the seat, a store's leaderboard counts what was done at that store."""
from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import distinct, func, select

from app.commission.periods import Period
from app.extensions import db
from app.models import (AttributionEvent, CommissionEntry, OrderAttribution, OrderEvent, OrderStatus, Payment,
                        PickupCode, StaffSeat)

KINDS = ("earned", "reversed", "adjusted")


def commission_sums(period: Period, seat_id: int | None = None, store_id: int | None = None
                    ) -> dict[int, dict[str, int]]:
    """{seat_id: {earned, reversed, adjusted, net, entries}} over the period (fen)."""
    query = (select(CommissionEntry.seat_id, CommissionEntry.kind, func.sum(CommissionEntry.amount_fen),
                    func.count(CommissionEntry.id))
             .where(CommissionEntry.created_at >= period.start, CommissionEntry.created_at < period.end)
             .group_by(CommissionEntry.seat_id, CommissionEntry.kind))
    if seat_id is not None:
        query = query.where(CommissionEntry.seat_id == seat_id)
    if store_id is not None:
        query = query.where(CommissionEntry.store_id == store_id)
    sums: dict[int, dict[str, int]] = {}
    for seat, kind, total, count in db.session.execute(query):
        row = sums.setdefault(seat, {"earned_fen": 0, "reversed_fen": 0, "adjusted_fen": 0, "net_fen": 0,
                                     "entries": 0})
        row[f"{kind}_fen"] += int(total or 0)
        row["net_fen"] += int(total or 0)
        row["entries"] += int(count)
    return sums


def _customers_attributed(seat_id: int, period: Period, store_id: int | None = None) -> int:
    query = select(func.count(distinct(AttributionEvent.customer_id))).where(
        AttributionEvent.seat_id == seat_id, AttributionEvent.outcome == "attributed",
        AttributionEvent.at >= period.start, AttributionEvent.at < period.end)
    if store_id is not None:
        query = query.where(AttributionEvent.store_id == store_id)
    return db.session.scalar(query) or 0


def _paid_orders(seat_id: int, period: Period, store_id: int | None = None) -> tuple[int, int]:
    """Orders carrying the seat that were paid in the period: (count, amount paid in fen)."""
    query = (select(func.count(Payment.id), func.sum(Payment.amount_fen))
             .join(OrderAttribution, OrderAttribution.order_id == Payment.order_id)
             .where(OrderAttribution.seat_id == seat_id, Payment.paid_at.is_not(None),
                    Payment.paid_at >= period.start, Payment.paid_at < period.end))
    if store_id is not None:
        query = query.where(OrderAttribution.store_id == store_id)
    count, amount = db.session.execute(query).one()
    return int(count or 0), int(amount or 0)


def _handovers(seat_id: int, period: Period, store_id: int | None = None) -> tuple[int, float | None]:
    """Codes the seat redeemed in the period, and the median minutes from `ready` to the handover (over the
    orders that were marked ready first)."""
    query = (select(PickupCode.order_id, PickupCode.redeemed_at)
             .where(PickupCode.redeemed_by_seat_id == seat_id, PickupCode.redeemed_at >= period.start,
                    PickupCode.redeemed_at < period.end))
    if store_id is not None:
        query = query.where(PickupCode.store_id == store_id)
    redeemed = {order_id: at for order_id, at in db.session.execute(query)}
    if not redeemed:
        return 0, None
    ready = dict(db.session.execute(
        select(OrderEvent.order_id, func.max(OrderEvent.created_at))
        .where(OrderEvent.order_id.in_(redeemed), OrderEvent.to_status == OrderStatus.READY.value)
        .group_by(OrderEvent.order_id)).all())
    waits = [(redeemed[order_id] - ready_at).total_seconds() / 60 for order_id, ready_at in ready.items()]
    return len(redeemed), (round(statistics.median(waits), 1) if waits else None)


def seat_stats(seat: StaffSeat, period: Period, store_id: int | None = None) -> dict[str, Any]:
    orders, paid = _paid_orders(seat.id, period, store_id)
    handovers, median = _handovers(seat.id, period, store_id)
    money = commission_sums(period, seat_id=seat.id, store_id=store_id).get(
        seat.id, {"earned_fen": 0, "reversed_fen": 0, "adjusted_fen": 0, "net_fen": 0, "entries": 0})
    return {
        "customers_attributed": _customers_attributed(seat.id, period, store_id),
        "orders": orders, "amount_paid_fen": paid,
        "handovers": handovers, "median_ready_to_handover_min": median,
        "commission": {k: money[k] for k in ("earned_fen", "reversed_fen", "adjusted_fen", "net_fen")},
    }


def leaderboard(store_id: int, period: Period) -> list[dict[str, Any]]:
    """Every seat that is at the store or did something there in the period, ranked by net commission, then
    handovers, then orders (ties share a rank)."""
    seat_ids = set(db.session.scalars(select(StaffSeat.id).where(StaffSeat.store_id == store_id,
                                                                 StaffSeat.active.is_(True))))
    seat_ids |= set(commission_sums(period, store_id=store_id))
    seat_ids |= set(db.session.scalars(select(PickupCode.redeemed_by_seat_id).where(
        PickupCode.store_id == store_id, PickupCode.redeemed_at >= period.start, PickupCode.redeemed_at < period.end,
        PickupCode.redeemed_by_seat_id.is_not(None))))
    rows = []
    for seat_id in sorted(seat_ids):
        seat = db.session.get(StaffSeat, seat_id)
        rows.append({"seat_id": seat.id, "name": seat.name, "role": seat.role,
                     **seat_stats(seat, period, store_id=store_id)})
    rows.sort(key=_score, reverse=True)
    rank, previous = 0, None
    for position, row in enumerate(rows, start=1):
        if _score(row) != previous:
            rank, previous = position, _score(row)
        row["rank"] = rank
    return rows


def _score(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["commission"]["net_fen"], row["handovers"], row["orders"]
