"""The server-side cart, one per customer and store. Prices are always read from the catalog, never stored."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Exists, bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import CartItem, Customer, Product, Sku, Store, StoreStock


@dataclass
class CartLine:
    sku: Sku
    product: Product
    quantity: int
    stock: int

    @property
    def available(self) -> bool:
        return self.sku.active and self.product.active and self.stock >= self.quantity


def _require_store(store_id: int) -> Store:
    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(f"Store {store_id} does not exist.")
    return store


def cart_lines(customer: Customer, store_id: int) -> list[CartLine]:
    _require_store(store_id)
    rows = db.session.execute(
        select(CartItem, Sku, Product, StoreStock.quantity)
        .join(Sku, Sku.id == CartItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .outerjoin(StoreStock, (StoreStock.sku_id == Sku.id) & (StoreStock.store_id == CartItem.store_id))
        .where(CartItem.customer_id == customer.id, CartItem.store_id == store_id)
        .order_by(CartItem.sku_id)
    ).all()
    return [CartLine(sku, product, item.quantity, stock or 0) for item, sku, product, stock in rows]


def put_item(customer: Customer, store_id: int, sku_id: int, quantity: int) -> None:
    """Set a line's quantity (1..99, checked by the adapter). Only SKUs this store sells can go in."""
    _require_store(store_id)
    sold_here = db.session.scalar(
        select(Sku.id).join(Product, Product.id == Sku.product_id)
        .join(StoreStock, (StoreStock.sku_id == Sku.id) & (StoreStock.store_id == store_id))
        .where(Sku.id == sku_id, Sku.active.is_(True), Product.active.is_(True))
    )
    if sold_here is None:
        raise Conflict(f"SKU {sku_id} is not sold at this store.", {"sku_id": sku_id}, code="sku_unavailable")
    item = db.session.get(CartItem, (customer.id, store_id, sku_id))
    if item is not None:
        item.quantity = quantity
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.add(CartItem(customer_id=customer.id, store_id=store_id, sku_id=sku_id, quantity=quantity))
    except IntegrityError:  # the same line added twice at once: the last quantity wins, as with a second PUT
        db.session.get(CartItem, (customer.id, store_id, sku_id)).quantity = quantity
    db.session.flush()


def remove_item(customer: Customer, store_id: int, sku_id: int) -> None:
    db.session.execute(delete(CartItem).where(CartItem.customer_id == customer.id, CartItem.store_id == store_id,
                                              CartItem.sku_id == sku_id))


_cart = CartItem.__table__
_AT_STORE = (_cart.c.customer_id == bindparam("customer_id"), _cart.c.store_id == bindparam("store_id"))
_CLEAR_LINES = delete(_cart).where(*_AT_STORE, _cart.c.sku_id.in_(bindparam("sku_ids", expanding=True)))


def any_lines_in_cart() -> Exists:
    """Whether customer :customer_id's cart at store :store_id holds anything (bind parameters), for a placement's
    one read: most orders come with an empty cart there, and then clear_lines is not sent. (Any line, not only the
    ordered ones: a list of SKUs would be an expanding parameter, whose SQL is rendered again at each execution.)"""
    return exists().where(*_AT_STORE)


def clear_lines(conn: Connection, customer_id: int, store_id: int, sku_ids: list[int]) -> None:
    """After an order: the lines bought leave the cart, in the same transaction as the order."""
    conn.execute(_CLEAR_LINES, {"customer_id": customer_id, "store_id": store_id, "sku_ids": sku_ids})
