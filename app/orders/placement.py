"""Placing an order: every price from the server, all stock reserved in one transaction, or nothing written."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.attribution.service import tag_order
from app.catalog.stock import reserve
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Customer, Order, OrderItem, Product, Sku, Store, StoreStock, utcnow
from app.orders.cart import clear_lines
from app.orders.numbers import new_order_no
from app.orders.state import record_creation
from app.stores.hours import is_open, local_now

MAX_LINES = 50
MAX_QUANTITY = 99


@dataclass
class Placement:
    order: Order
    created: bool  # False: an earlier request with the same Idempotency-Key made it


def request_fingerprint(store_id: int, lines: dict[int, int], remark: str) -> str:
    canonical = json.dumps([store_id, sorted(lines.items()), remark], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(customer: Customer, store_id: int, lines: dict[int, int], remark: str,
                idempotency_key: str | None) -> Placement:
    """`lines` maps sku_id -> quantity (already merged and range-checked by the adapter)."""
    fingerprint = request_fingerprint(store_id, lines, remark)
    if idempotency_key:
        earlier = _earlier_order(customer.id, idempotency_key, fingerprint)
        if earlier is not None:
            return Placement(earlier, created=False)
    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(f"Store {store_id} does not exist.")
    now_local = local_now(current_app.config["STORE_TIMEZONE"])
    if not is_open(store.hours, now_local):
        raise Conflict(f"{store.name} is closed now and not taking orders.", {"store_id": store_id},
                       code="store_closed")
    items = _priced_items(store_id, lines)
    now = utcnow()
    order = Order(
        order_no=new_order_no(now_local), customer_id=customer.id, store_id=store_id, status="pending_payment",
        total_fen=sum(i.unit_price_fen * i.quantity for i in items), remark=remark,
        idempotency_key=idempotency_key, request_hash=fingerprint, stock_reserved=True, created_at=now,
        updated_at=now, expires_at=now + timedelta(seconds=current_app.config["ORDER_PAYMENT_TIMEOUT_S"]),
        items=items,
    )
    db.session.add(order)
    try:
        db.session.flush()
    except IntegrityError:
        # Only the (customer, Idempotency-Key) constraint can fail here: a request with the same key won the race.
        db.session.rollback()
        earlier = _earlier_order(customer.id, idempotency_key, fingerprint) if idempotency_key else None
        if earlier is None:
            raise
        return Placement(earlier, created=False)
    record_creation(order, f"customer:{customer.id}")
    tag_order(order)  # the seat holding this customer at this store, if any (issue 17)
    clear_lines(customer, store_id, list(lines))
    # Last, so the stock rows (the hot ones in a rush) stay locked only from here to the caller's commit; a short
    # line raises and the caller's rollback undoes the order written above: all or nothing.
    reserve(store_id, lines)
    return Placement(order, created=True)


def _earlier_order(customer_id: int, key: str, fingerprint: str) -> Order | None:
    order = db.session.scalar(select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key))
    if order is not None and order.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was already used for a different order.",
                       {"order_no": order.order_no}, code="idempotency_key_reused")
    return order


def _priced_items(store_id: int, lines: dict[int, int]) -> list[OrderItem]:
    """Snapshots of what is bought, priced from the catalog. Every SKU must be active, on an active product, and
    carried by this store (a stock row there)."""
    rows = db.session.execute(
        select(Sku, Product)
        .join(Product, Product.id == Sku.product_id)
        .join(StoreStock, (StoreStock.sku_id == Sku.id) & (StoreStock.store_id == store_id))
        .where(Sku.id.in_(lines), Sku.active.is_(True), Product.active.is_(True))
    ).all()
    found = {sku.id: (sku, product) for sku, product in rows}
    missing = sorted(set(lines) - set(found))
    if missing:
        raise Conflict(f"SKU {missing[0]} is not sold at this store.", {"sku_id": missing[0], "sku_ids": missing},
                       code="sku_unavailable")
    return [
        OrderItem(sku_id=sku.id, product_id=product.id, title=product.title, spec=sku.spec,
                  unit_price_fen=sku.price_fen, quantity=lines[sku.id])
        for sku_id in sorted(lines)
        for sku, product in [found[sku_id]]
    ]
