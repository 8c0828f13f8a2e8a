"""The order state machine: one transition table, one guarded UPDATE and one event row per change."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Conflict
from app.extensions import db
from app.models import Order, OrderStatus, utcnow
from app.orders.writes import insert_event

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    # Staff may hand over a paid order that was never marked ready: the customer is at the counter.
    S.PAID: frozenset({S.READY, S.PICKED_UP, S.REFUNDING}),
    S.READY: frozenset({S.PICKED_UP, S.REFUNDING}),
    # A payment that arrives after the order was cancelled: paid again if its stock can be re-reserved, else refunded.
    S.CANCELLED: frozenset({S.PAID, S.REFUNDING}),
    S.REFUNDING: frozenset({S.REFUNDED, S.REFUND_FAILED}),
    # A person retries it; or WeChat Pay finishes an ABNORMAL refund after all (it is not final).
    S.REFUND_FAILED: frozenset({S.REFUNDING, S.REFUNDED}),
    # A manager refunds goods already handed over (after-sale, issue 17): the commission earned on it is reversed.
    S.PICKED_UP: frozenset({S.REFUNDING}),
    S.REFUNDED: frozenset(),
}


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, order_no: str, from_status: str, to_status: str) -> None:
        super().__init__(f"Order {order_no} cannot go from {from_status} to {to_status}.",
                         {"order_no": order_no, "status": from_status, "to": to_status})


class ConcurrentTransition(Conflict):
    """Somebody else changed the order between our read and our guarded write; nothing was changed by us."""
    code = "order_changed"

    def __init__(self, order_no: str) -> None:
        super().__init__(f"Order {order_no} was changed at the same moment; reload it and try again.",
                         {"order_no": order_no})


def can_transition(from_status: str, to_status: str) -> bool:
    return S(to_status) in TRANSITIONS[S(from_status)]


def transition(order: Order, to: OrderStatus, reason: str, actor: str, also: dict[str, Any] | None = None) -> None:
    """Move `order` from the status we read to `to`, or raise. The UPDATE is guarded by the status we read, so of
    two racing transitions exactly one writes; the loser raises ConcurrentTransition and must roll back. `also`:
    more columns of the order that change with the transition, written by the same UPDATE (a paid order's
    promised ready time) rather than by one more. The session's instance is told the values written."""
    db.session.flush()  # what the unit changed before goes first, as an ORM statement's autoflush sent it
    values = change_status(db.session.connection(), order.id, order.order_no, order.status, to, reason, actor, also)
    for name, value in values.items():
        set_committed_value(order, name, value)


def change_status(conn: Connection, order_id: int, order_no: str, status: str, to: OrderStatus, reason: str,
                  actor: str, also: dict[str, Any] | None = None) -> dict[str, Any]:
    """transition() of an order the caller read by its columns (`status`: as read), with no ORM instance: the
    guarded UPDATE and the event row by Core statements built once (app/orders/writes.py), on the unit's
    connection `conn`. Returns the columns written. No session instance of the order is told: a caller that holds
    one uses transition()."""
    current = S(status)
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(order_no, current.value, to.value)
    now = utcnow()
    values = {**(also or {}), "status": to.value, "updated_at": now}
    result = conn.execute(_guarded_update(tuple(values)),
                          {"order_id": order_id, "from_status": current.value,
                           **{f"new_{name}": value for name, value in values.items()}})
    if result.rowcount != 1:
        raise ConcurrentTransition(order_no)
    insert_event(conn, order_id, current.value, to.value, reason, actor, now)
    return values


_orders = Order.__table__.c
_GUARDED: dict[tuple[str, ...], Update] = {}  # the guarded UPDATE of each set of columns written, built once


def _guarded_update(columns: tuple[str, ...]) -> Update:
    statement = _GUARDED.get(columns)
    if statement is None:
        statement = _GUARDED[columns] = (
            update(Order.__table__)
            .where(_orders.id == bindparam("order_id"), _orders.status == bindparam("from_status"))
            .values({name: bindparam(f"new_{name}", type_=_orders[name].type) for name in columns}))
    return statement


def record_creation(conn: Connection, order_id: int, status: str, actor: str, at: datetime) -> None:
    """A new order's first event (no status before it), by Core (app/orders/writes.py): the placement holds no ORM
    instance of the order it wrote."""
    insert_event(conn, order_id, None, status, "placed", actor, at)
