"""Every move of a store's stock, in one place: conditional UPDATEs, never read-modify-write.

`quantity = quantity - n WHERE quantity >= n` lets the database decide who gets the last unit, so two buyers can
never both get it, and the CHECK (quantity >= 0) is a second wall behind it. Lines are taken in SKU order so two
orders locking the same rows always lock them in the same order and cannot deadlock. No HTTP call is ever made
while these row locks are held: the caller commits first.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Conflict
from app.extensions import db
from app.models import Order, StoreStock


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, sku_id: int, requested: int, available: int) -> None:
        super().__init__(f"Only {available} left of SKU {sku_id} at this store; {requested} were asked for.",
                         {"sku_id": sku_id, "requested": requested, "available": available})


def reserve(store_id: int, lines: dict[int, int]) -> None:
    """Take `lines` (sku_id -> quantity) from the store's stock, all or nothing: on a short line this raises, and
    the caller's rollback puts back the lines already taken."""
    for sku_id in sorted(lines):
        quantity = lines[sku_id]
        result = db.session.execute(
            update(StoreStock)
            .where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id, StoreStock.quantity >= quantity)
            .values(quantity=StoreStock.quantity - quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            available = db.session.scalar(
                select(StoreStock.quantity).where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id))
            raise InsufficientStock(sku_id, quantity, available or 0)


def put_back(store_id: int, lines: dict[int, int]) -> None:
    for sku_id in sorted(lines):
        db.session.execute(
            update(StoreStock)
            .where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)
            .values(quantity=StoreStock.quantity + lines[sku_id])
            .execution_options(synchronize_session=False)
        )


def order_lines(order: Order) -> dict[int, int]:
    return {item.sku_id: item.quantity for item in order.items}


def release_for_order(order: Order) -> bool:
    """Return an order's stock to its store, once: the `stock_reserved` flag flips in a guarded UPDATE in the same
    transaction, so a second release (a retry, a race) finds nothing to do. Returns whether stock moved."""
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.stock_reserved.is_(True)).values(stock_reserved=False)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(order, "stock_reserved", False)
    put_back(order.store_id, order_lines(order))
    return True


def set_quantity(store_id: int, sku_id: int, quantity: int) -> StoreStock:
    """The shop owner's count (CLI, import): an absolute number, not a move."""
    row = db.session.get(StoreStock, (store_id, sku_id))
    if row is None:
        row = StoreStock(store_id=store_id, sku_id=sku_id, quantity=quantity)
        db.session.add(row)
    else:
        row.quantity = quantity
    db.session.flush()
    return row
