"""Every move of a store's stock, in one place: conditional UPDATEs, never read-modify-write.

`quantity = quantity - n WHERE quantity >= n` lets the database decide who gets the last unit, so two buyers can
never both get it, and the CHECK (quantity >= 0) is a second wall behind it. Lines are taken in SKU order so two
orders locking the same rows always lock them in the same order and cannot deadlock. No HTTP call is ever made
while these row locks are held: the caller commits first.

Sold out, said by Redis: when reserve() finds a SKU at 0 it marks it (app/fastpath.py), and a rush's later buyers
are refused before the database (refuse_if_sold_out). The marker is written while the row is share-locked at 0, and
put_back and set_quantity, the only ways a count goes up, delete it after their commit; it also expires after
SOLD_OUT_TTL_S, a bound on a deletion that Redis failed to take.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import fastpath
from app.errors import Conflict
from app.extensions import db, redis_client
from app.models import Order, StoreStock


SOLD_OUT_TTL_S = 60


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, sku_id: int, requested: int, available: int) -> None:
        super().__init__(f"Only {available} left of SKU {sku_id} at this store; {requested} were asked for.",
                         {"sku_id": sku_id, "requested": requested, "available": available})


_stock = StoreStock.__table__
# Built once (the compiled form then comes from SQLAlchemy's cache), on the table: executed through the session, so
# the catalog cache still sees a stock write (app/catalog/cache.py), but as Core, without the ORM's bulk UPDATE
# machinery (no instances to synchronise: synchronize_session would be False anyway). Bind names differ from the
# columns': SQLAlchemy keeps those for the SET clause.
_TAKE = (update(_stock)
         .where(_stock.c.store_id == bindparam("at_store"), _stock.c.sku_id == bindparam("of_sku"),
                _stock.c.quantity >= bindparam("n"))
         .values(quantity=_stock.c.quantity - bindparam("n")))


def reserve(store_id: int, lines: dict[int, int]) -> None:
    """Take `lines` (sku_id -> quantity) from the store's stock, all or nothing: on a short line this raises, and
    the caller's rollback puts back the lines already taken."""
    for sku_id in sorted(lines):
        quantity = lines[sku_id]
        result = db.session.execute(_TAKE, {"at_store": store_id, "of_sku": sku_id, "n": quantity})
        if result.rowcount != 1:
            query = select(StoreStock.quantity).where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)
            if redis_client() is None:
                raise InsufficientStock(sku_id, quantity, db.session.scalar(query) or 0)
            # The latest count, share-locked until the caller's rollback: nothing can add stock between this read
            # and the marker below, and whatever adds it later clears the marker after its commit.
            available = db.session.scalar(query.with_for_update(read=True))
            if available == 0:
                fastpath.remember(_sold_out_key(store_id, sku_id), "0", SOLD_OUT_TTL_S)
            raise InsufficientStock(sku_id, quantity, available or 0)


def refuse_if_sold_out(store_id: int, lines: dict[int, int]) -> None:
    """Before the database (the rush's losers): a line whose SKU is marked sold out at this store is refused as
    reserve() would refuse it. Without a marker (none, expired, Redis away) nothing is decided here."""
    skus = sorted(lines)
    for sku_id, mark in zip(skus, fastpath.recall_many([_sold_out_key(store_id, s) for s in skus]), strict=True):
        if mark is not None:
            raise InsufficientStock(sku_id, lines[sku_id], 0)


def _sold_out_key(store_id: int, sku_id: int) -> str:
    return f"stock:sold_out:{store_id}:{sku_id}"


def _stock_added(store_id: int, sku_id: int) -> None:
    """Every path that can raise a count passes here (put_back, set_quantity): the sold-out marker goes once the
    change is committed."""
    fastpath.forget_after_commit(_sold_out_key(store_id, sku_id))


def put_back(store_id: int, lines: dict[int, int]) -> None:
    for sku_id in sorted(lines):
        db.session.execute(
            update(StoreStock)
            .where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)
            .values(quantity=StoreStock.quantity + lines[sku_id])
            .execution_options(synchronize_session=False)
        )
        _stock_added(store_id, sku_id)


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
    _stock_added(store_id, sku_id)
    return row
