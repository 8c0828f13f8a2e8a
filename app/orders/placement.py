"""Placing an order: every price from the server, all stock reserved in one transaction, or nothing written."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.exc import IntegrityError

from app.attribution.service import tag_order
from app.catalog.stock import InsufficientStock, refuse_if_sold_out, reserve
from app.errors import Conflict, NotFound, ServiceUnavailable
from app.extensions import db
from app.models import Customer, Order, OrderItem, OrderStatus, Product, Sku, Store, StoreStock, utcnow
from app.orders.cart import clear_lines
from app.orders.numbers import new_order_no
from app.orders.state import record_creation
from app.ratelimit import order_limits, take
from app.stores.hours import is_open, local_now
from app.uow import commit_so_a_lock_comes_first, lock_last, read_again_after_losing_a_race

MAX_LINES = 50
MAX_QUANTITY = 99


@dataclass
class Placement:
    order: Order
    created: bool  # False: an earlier request with the same Idempotency-Key made it


def request_fingerprint(store_id: int, lines: dict[int, int], remark: str, coupon_id: int | None = None,
                        pickup_at: datetime | None = None) -> str:
    extra = [coupon_id, pickup_at.isoformat() if pickup_at else None] if coupon_id or pickup_at else []
    canonical = json.dumps([store_id, sorted(lines.items()), remark, *extra], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(customer: Customer, store_id: int, lines: dict[int, int], remark: str,
                idempotency_key: str | None, coupon_id: int | None = None,
                pickup_at: datetime | None = None) -> Placement:
    """`lines` maps sku_id -> quantity (already merged and range-checked by the adapter); `coupon_id` and
    `pickup_at` are optional (issue 18: coupons and promises)."""
    from app.coupons.wallet import CouponUnavailable, discount_for, lock_for_order
    from app.promises.terms import check_pickup_at

    fingerprint = request_fingerprint(store_id, lines, remark, coupon_id, pickup_at)
    try:
        refuse_if_sold_out(store_id, lines)  # a rush's losers: answered from Redis, before any row is locked
    except InsufficientStock:
        # Unless it is the repeat of an order placed before the SKU sold out: that one is answered again.
        earlier = _earlier_order(customer.id, idempotency_key, fingerprint) if idempotency_key else None
        if earlier is None:
            raise
        return Placement(earlier, created=False)
    # The customer's row first, then everything else of the customer is read in a snapshot taken after the lock:
    # any placement of this customer that held it before has committed and is seen (the unpaid orders counted).
    _lock_customer(customer.id)
    if idempotency_key:
        earlier = _earlier_order(customer.id, idempotency_key, fingerprint)
        if earlier is not None:
            return Placement(earlier, created=False)
    _bound_stock_holds(customer)
    # The store with its hours in one statement (a joined load).
    store = db.session.scalars(select(Store).where(Store.id == store_id).options(joinedload(Store.hours))).unique().first()
    if store is None or not store.active:
        raise NotFound(f"Store {store_id} does not exist.")
    now_local = local_now(current_app.config["STORE_TIMEZONE"])
    if not is_open(store.hours, now_local):
        raise Conflict(f"{store.name} is closed now and not taking orders.", {"store_id": store_id},
                       code="store_closed")
    items = _priced_items(store_id, lines)
    now = utcnow()
    if pickup_at is not None:
        pickup_at = check_pickup_at(store, pickup_at, now)
    total_fen = sum(i.unit_price_fen * i.quantity for i in items)
    discount_fen = discount_for(customer, coupon_id, store_id, total_fen, now) if coupon_id else 0
    order = Order(
        # store=store as well as its id: the answer prints the store, and a loaded relationship needs no SELECT.
        order_no=new_order_no(now_local), customer_id=customer.id, store_id=store_id, store=store,
        status="pending_payment",
        total_fen=total_fen, discount_fen=discount_fen, payable_fen=total_fen - discount_fen, coupon_id=coupon_id,
        pickup_at=pickup_at, remark=remark,
        idempotency_key=idempotency_key, request_hash=fingerprint, stock_reserved=True, created_at=now,
        updated_at=now, expires_at=now + timedelta(seconds=current_app.config["ORDER_PAYMENT_TIMEOUT_S"]),
        items=items,
    )
    if coupon_id:
        try:  # of two orders racing for one coupon, one passes; the other rolls back
            lock_for_order(coupon_id, now)
        except CouponUnavailable:
            # A double tap with the same Idempotency-Key: the first request holds the coupon; answer with its order.
            read_again_after_losing_a_race()
            earlier = _earlier_order(customer.id, idempotency_key, fingerprint) if idempotency_key else None
            if earlier is None:
                raise
            return Placement(earlier, created=False)
    db.session.add(order)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # The (customer, Idempotency-Key) constraint: a request with the same key won the race (a defence: the
        # customer's lock above already makes the second see the first). Else the order number was taken: ten
        # random digits a day make that about one order in 10^6 on a day of 10,000 orders, not worth a SELECT
        # before each INSERT; the client's retry draws another.
        read_again_after_losing_a_race()
        earlier = _earlier_order(customer.id, idempotency_key, fingerprint) if idempotency_key else None
        if earlier is None:
            if "order_no" not in str(exc.orig):  # the key MariaDB and SQLite both name in the message
                raise
            raise ServiceUnavailable("The order could not be numbered; please try again.", {"retry_after_s": 1},
                                     headers={"Retry-After": "1"}) from None
        return Placement(earlier, created=False)
    record_creation(order, f"customer:{customer.id}")
    tag_order(order)  # the seat holding this customer at this store, if any (issue 17)
    clear_lines(customer, store_id, list(lines))
    # Last, once the answer is rendered (app/uow.lock_last), so the stock rows (the hot ones in a rush) stay locked
    # only from here to the commit; a short line raises and the rollback undoes the order written above: all or
    # nothing.
    lock_last(lambda: reserve(store_id, lines))
    return Placement(order, created=True)


def _bound_stock_holds(customer: Customer) -> None:
    """An unpaid order holds stock until it expires: one account may place ORDERS_PER_CUSTOMER_PER_MINUTE orders a
    minute (429) and hold MAX_UNPAID_ORDERS unpaid ones (409), so no account can hoard a store's stock (issue 11).
    The customer's row is locked before (`_lock_customer`), so two placements at once cannot both pass the count."""
    config = current_app.config
    take(order_limits(customer.id, config["ORDERS_PER_CUSTOMER_PER_MINUTE"]), what="orders placed")
    unpaid = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.customer_id == customer.id, Order.status == OrderStatus.PENDING_PAYMENT.value))
    if unpaid >= config["MAX_UNPAID_ORDERS"]:
        raise Conflict(f"You already have {unpaid} unpaid orders; pay or cancel one before placing another.",
                       {"unpaid_orders": unpaid, "max_unpaid_orders": config["MAX_UNPAID_ORDERS"]},
                       code="too_many_unpaid_orders")


def _lock_customer(customer_id: int) -> None:
    """One placement at a time per customer. The lock must open the unit's snapshot (MariaDB fixes it at the first
    plain read, not at a locking one): when the token was read from the database first (a token cache miss), that
    read is committed so that the lock comes first."""
    commit_so_a_lock_comes_first(only_if_read=True)
    db.session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


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
