"""A new order's rows written by SQLAlchemy Core, not the ORM: a placement writes an order, its lines and its first
event once and never changes them in the same unit, so the ORM's unit of work (instances, identity map, flush
planning) would be pure cost, about 1 ms a row on a slow core (bench/hot_paths.py). The statements are built once,
here, so each execution finds its compiled form in SQLAlchemy's cache without building and hashing a new one.

They run on the unit's own connection (`db.session.connection()`, fetched once by the caller: each fetch goes through
the scoped session's lookups): the same transaction as everything the ORM did before, committed or rolled back
with it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from app.models import Order, OrderEvent, OrderItem

_ORDER = insert(Order.__table__)
_ITEMS = insert(OrderItem.__table__)
_EVENT = insert(OrderEvent.__table__)


def insert_order(conn: Connection, values: dict[str, Any]) -> int:
    """INSERT the order (every column given: no Python-side default runs); its id, from the driver's lastrowid.
    Raises IntegrityError on a taken unique key (order number, customer + Idempotency-Key)."""
    return int(conn.execute(_ORDER, values).lastrowid)


def insert_items(conn: Connection, order_id: int, items: list[dict[str, Any]]) -> None:
    """The order's lines in one statement (the driver sends a many-row INSERT as one multi-row VALUES)."""
    conn.execute(_ITEMS, [{**item, "order_id": order_id} for item in items])


def insert_event(conn: Connection, order_id: int, from_status: str | None, to_status: str, reason: str, actor: str,
                 at: datetime) -> None:
    conn.execute(_EVENT, {"order_id": order_id, "from_status": from_status, "to_status": to_status,
                          "reason": reason, "actor": actor, "created_at": at})

