"""Attribution: the first staff code a customer arrives with at a store owns them there for ATTRIBUTION_WINDOW_D
days; a later scan of another seat's code at that store does not take them over inside the window. A store's
counter code attributes to the store alone. Every order placed at a store carries the seat holding its customer
there at that moment (an active seat still at that store).

Race-safe without locks held across anything slow: the (customer, store) row is made once (unique key, a racing
insert reads the winner's row with a locking read), and a seat takes it by one guarded UPDATE (`no seat, or the
window is over`), so of two clerks scanned at the same instant exactly one owns the customer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, ScalarSelect, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.attribution.scenes import resolve
from app.extensions import db
from app.models import (AttributionEvent, AttributionScene, Customer, CustomerAttribution, OrderAttribution,
                        StaffSeat, Store, utcnow)
from app.ratelimit import Limit, take

# A person opens the mini-program from a code a few times a day; a script replaying scenes (or guessing them) is
# stopped here, and every call counts, so a replay cannot grow the event log without bound.
ARRIVALS_PER_HOUR = 20


@dataclass
class Arrival:
    store: Store
    outcome: str  # attributed, kept, store
    seat: StaffSeat | None  # the seat holding the customer at this store now, if any
    until: datetime | None


def arrival_limits(customer_id: int) -> tuple[Limit, ...]:
    return (Limit(f"attribution:customer:{customer_id}", ARRIVALS_PER_HOUR, 3600),)


def record_arrival(customer: Customer, raw_scene: str) -> Arrival:
    """The customer opened the mini-program from a code with this scene. Flushes; the caller commits. Anything
    but a live scene of ours raises (4xx) before anything is written."""
    take(arrival_limits(customer.id))
    scene = resolve(raw_scene)
    now = utcnow()
    row = _row_for(customer.id, scene, now)
    if scene.seat_id is None:
        outcome = "store"
    else:
        until = now + timedelta(days=current_app.config["ATTRIBUTION_WINDOW_D"])
        taken = db.session.execute(
            update(CustomerAttribution)
            .where(CustomerAttribution.id == row.id,
                   or_(CustomerAttribution.seat_id.is_(None), CustomerAttribution.seat_until <= now))
            .values(seat_id=scene.seat_id, seat_since=now, seat_until=until)
            .execution_options(synchronize_session=False))
        outcome = "attributed" if taken.rowcount == 1 else "kept"
    db.session.add(AttributionEvent(customer_id=customer.id, store_id=scene.store_id, scene_id=scene.id,
                                    seat_id=scene.seat_id, outcome=outcome, at=now))
    db.session.flush()
    # Locking, so it reads the latest row: a plain read would keep MariaDB's snapshot from before a racing insert.
    db.session.refresh(row, with_for_update=True)
    holder = holding_seat(row, now)
    return Arrival(db.session.get(Store, scene.store_id), outcome, holder, row.seat_until if holder else None)


def _row_for(customer_id: int, scene: AttributionScene, now: datetime) -> CustomerAttribution:
    def find(locking: bool) -> CustomerAttribution | None:
        query = select(CustomerAttribution).where(CustomerAttribution.customer_id == customer_id,
                                                  CustomerAttribution.store_id == scene.store_id)
        return db.session.scalar(query.with_for_update() if locking else query)

    # One customer's arrivals take turns on the customer's row (it exists: a record lock, no gap lock), so two
    # racing first arrivals cannot deadlock on the unique key of the row they both insert.
    db.session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())
    # A plain read first: a locking read of a missing row would take a gap lock that other customers' inserts
    # into the same gap deadlock against.
    row = find(locking=False)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = CustomerAttribution(customer_id=customer_id, store_id=scene.store_id,
                                      first_source="store_code" if scene.seat_id is None else "staff_code",
                                      first_arrived_at=now)
            db.session.add(row)
        return row
    except IntegrityError:  # the same customer's other request made it first; a locking read sees the latest row
        row = find(locking=True)
        assert row is not None
        return row


def holding_seat(row: CustomerAttribution | None, now: datetime | None = None) -> StaffSeat | None:
    """The seat that holds the customer at the row's store now: inside its window, active, still at that store."""
    now = now or utcnow()
    if row is None or row.seat_id is None or row.seat_until is None or row.seat_until <= now:
        return None
    seat = db.session.get(StaffSeat, row.seat_id)
    if seat is None or not seat.active or seat.store_id != row.store_id:
        return None
    return seat


def holding_seat_id() -> ScalarSelect[int]:
    """holding_seat() as a scalar subquery, for a placement's one read (app/orders/placement.py): the seat holding
    customer :customer_id at store :store_id at :now (bind parameters), or NULL."""
    row, seat = CustomerAttribution.__table__, StaffSeat.__table__
    return (select(row.c.seat_id).join(seat, seat.c.id == row.c.seat_id)
            .where(row.c.customer_id == bindparam("customer_id"), row.c.store_id == bindparam("store_id"),
                   row.c.seat_until > bindparam("now"), seat.c.active.is_(True), seat.c.store_id == row.c.store_id)
            .scalar_subquery())


_TAG = insert(OrderAttribution.__table__)


def tag_order(conn: Connection, order_id: int, store_id: int, seat_id: int, at: datetime) -> None:
    """Placement hook: the order carries `seat_id`, the seat holding its customer at its store when it was placed
    (read by holding_seat_id() in the placement's snapshot). One Core INSERT (app/orders/writes.py says why)."""
    conn.execute(_TAG, {"order_id": order_id, "seat_id": seat_id, "store_id": store_id, "created_at": at})
