"""What the staff app lists: the store's orders awaiting pickup and the store's redemption log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, PickupAttempt, PickupCode, StaffSeat
from app.pickup.handover import REDEEMABLE


@dataclass
class LogEntry:
    attempt: PickupAttempt
    seat: StaffSeat
    order_no: str | None


def awaiting_pickups(store_id: int, status: str | None, offset: int, limit: int
                     ) -> tuple[list[tuple[Order, PickupCode]], int]:
    """Paid or ready orders of the store with a live code, oldest payment first (the longest wait first)."""
    where = [Order.store_id == store_id, Order.status.in_([status] if status else REDEEMABLE),
             PickupCode.redeemed_at.is_(None), PickupCode.revoked_at.is_(None)]
    base = select(Order, PickupCode).join(PickupCode, PickupCode.order_id == Order.id).where(*where)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(base.options(selectinload(Order.items))
                              .order_by(PickupCode.created_at, Order.id).offset(offset).limit(limit)).all()
    return [(row.Order, row.PickupCode) for row in rows], total


def attempt_log(seat: StaffSeat, offset: int, limit: int) -> tuple[list[LogEntry], int]:
    """Newest first. A manager sees every seat of the store, a clerk only their own attempts."""
    where = [PickupAttempt.store_id == seat.store_id]
    if seat.role != "manager":
        where.append(PickupAttempt.seat_id == seat.id)
    total = db.session.scalar(select(func.count()).select_from(PickupAttempt).where(*where)) or 0
    rows = db.session.execute(
        select(PickupAttempt, StaffSeat, Order.order_no, Order.store_id)
        .join(StaffSeat, StaffSeat.id == PickupAttempt.seat_id)
        .outerjoin(Order, Order.id == PickupAttempt.order_id)
        .where(*where).order_by(PickupAttempt.at.desc(), PickupAttempt.id.desc()).offset(offset).limit(limit)).all()
    # Another store's order number never shows here: a wrong-store attempt must not leak what it hit.
    return [LogEntry(r.PickupAttempt, r.StaffSeat, r.order_no if r.store_id == seat.store_id else None)
            for r in rows], total
