"""Placing an order: every price from the server, all stock reserved in one transaction, or nothing written."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Any

from flask import current_app
from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from app.attribution.service import holding_seat_id, tag_order
from app.catalog.stock import InsufficientStock, refuse_if_sold_out, reserve
from app.errors import Conflict, NotFound, ServiceUnavailable
from app.extensions import db
from app.models import Customer, Order, OrderStatus, Product, Sku, Store, StoreHours, StoreStock, utcnow
from app.orders.cart import any_lines_in_cart, clear_lines
from app.orders.numbers import new_order_no
from app.orders.state import record_creation
from app.orders.writes import insert_items, insert_order
from app.ratelimit import order_limits, take
from app.stores.hours import is_open, local_now
from app.uow import commit_so_a_lock_comes_first, lock_last, read_again_after_losing_a_race

MAX_LINES = 50
MAX_QUANTITY = 99


@dataclass(frozen=True)
class PlacedStore:
    id: int
    name: str


@dataclass(frozen=True)
class PlacedItem:
    sku_id: int
    product_id: int
    title: str
    spec: str
    unit_price_fen: int
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    """A new order as written (app/orders/writes.py), for its answer: the values in hand, not an ORM instance that
    would be built, tracked and flushed only to be printed. The attributes order_json reads from an Order."""
    id: int
    order_no: str
    status: str
    total_fen: int
    discount_fen: int
    payable_fen: int
    coupon_id: int | None
    pickup_at: datetime | None
    remark: str
    created_at: datetime
    expires_at: datetime
    store: PlacedStore
    items: list[PlacedItem]
    promised_ready_at: None = None  # set when paid
    promise_outcome: None = None


@dataclass
class Placement:
    order: Order | PlacedOrder  # an earlier order (a replay) is read back as an Order
    created: bool  # False: an earlier request with the same Idempotency-Key made it


@dataclass
class _Context:
    """What a placement reads in one statement once the customer's row is locked (see _CONTEXT)."""
    unpaid: int
    earlier_id: int | None
    seat_id: int | None
    in_cart: bool
    store_name: str | None  # None: no such store
    store_active: bool
    hours: list[Row[Any]]  # the store's intervals on the weekdays asked for (weekday, open_min, close_min)
    priced: dict[int, Row[Any]]  # sku_id -> (product_id, title, spec, price_fen) of the ordered SKUs sold here


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
    customer_id = customer.id  # now: the commit in _lock_customer may expire the customer, and a reload is a SELECT
    # The customer's row first, then everything else of the customer is read in a snapshot taken after the lock:
    # any placement of this customer that held it before has committed and is seen (the unpaid orders counted).
    conn = _lock_customer(customer_id)
    now = utcnow()
    now_local = local_now(current_app.config["STORE_TIMEZONE"], now)
    context = _read_context(conn, customer_id, store_id, lines, idempotency_key, now, now_local, pickup_at)
    if context.earlier_id is not None:
        return Placement(_checked_replay(db.session.get_one(Order, context.earlier_id), fingerprint), created=False)
    _bound_stock_holds(customer_id, context.unpaid)
    if context.store_name is None or not context.store_active:
        raise NotFound(f"Store {store_id} does not exist.")
    if not is_open(context.hours, now_local):
        raise Conflict(f"{context.store_name} is closed now and not taking orders.", {"store_id": store_id},
                       code="store_closed")
    items = _priced_items(context.priced, lines)
    if pickup_at is not None:
        pickup_at = check_pickup_at(context.hours, pickup_at, now)
    total_fen = sum(i.unit_price_fen * i.quantity for i in items)
    discount_fen = discount_for(customer, coupon_id, store_id, total_fen, now) if coupon_id else 0
    if coupon_id:
        try:  # of two orders racing for one coupon, one passes; the other rolls back
            lock_for_order(coupon_id, now)
        except CouponUnavailable:
            # A double tap with the same Idempotency-Key: the first request holds the coupon; answer with its order.
            read_again_after_losing_a_race()
            earlier = _earlier_order(customer_id, idempotency_key, fingerprint) if idempotency_key else None
            if earlier is None:
                raise
            return Placement(earlier, created=False)
    status = OrderStatus.PENDING_PAYMENT.value
    values: dict[str, Any] = {
        "order_no": new_order_no(now_local), "customer_id": customer_id, "store_id": store_id, "status": status,
        "total_fen": total_fen, "discount_fen": discount_fen, "payable_fen": total_fen - discount_fen,
        "coupon_id": coupon_id, "pickup_at": pickup_at, "promised_ready_at": None, "promise_outcome": None,
        "remark": remark, "idempotency_key": idempotency_key, "request_hash": fingerprint, "stock_reserved": True,
        "created_at": now, "updated_at": now,
        "expires_at": now + timedelta(seconds=current_app.config["ORDER_PAYMENT_TIMEOUT_S"]),
    }
    try:
        order_id = insert_order(conn, values)
    except IntegrityError as exc:
        # The (customer, Idempotency-Key) constraint: a request with the same key won the race (a defence: the
        # customer's lock above already makes the second see the first). Else the order number was taken: ten
        # random digits a day make that about one order in 10^6 on a day of 10,000 orders, not worth a SELECT
        # before each INSERT; the client's retry draws another.
        read_again_after_losing_a_race()
        earlier = _earlier_order(customer_id, idempotency_key, fingerprint) if idempotency_key else None
        if earlier is None:
            if "order_no" not in str(exc.orig):  # the key MariaDB and SQLite both name in the message
                raise
            raise ServiceUnavailable("The order could not be numbered; please try again.", {"retry_after_s": 1},
                                     headers={"Retry-After": "1"}) from None
        return Placement(earlier, created=False)
    insert_items(conn, order_id, [vars(item) for item in items])
    record_creation(conn, order_id, status, f"customer:{customer_id}", now)
    if context.seat_id is not None:
        tag_order(conn, order_id, store_id, context.seat_id, now)  # the seat holding this customer here (issue 17)
    if context.in_cart:
        clear_lines(conn, customer_id, store_id, list(lines))
    # Last, once the answer is rendered (app/uow.lock_last), so the stock rows (the hot ones in a rush) stay locked
    # only from here to the commit; a short line raises and the rollback undoes the order written above: all or
    # nothing.
    lock_last(lambda: reserve(store_id, lines))
    placed = PlacedOrder(id=order_id, store=PlacedStore(store_id, context.store_name), items=items,
                         **{name: values[name] for name in _PLACED_FROM_VALUES})
    return Placement(placed, created=True)


_PLACED_FROM_VALUES = ("order_no", "status", "total_fen", "discount_fen", "payable_fen", "coupon_id", "pickup_at",
                       "remark", "created_at", "expires_at")


def _bound_stock_holds(customer_id: int, unpaid: int) -> None:
    """An unpaid order holds stock until it expires: one account may place ORDERS_PER_CUSTOMER_PER_MINUTE orders a
    minute (429) and hold MAX_UNPAID_ORDERS unpaid ones (409), so no account can hoard a store's stock (issue 11).
    `unpaid` was counted after the customer's row was locked (`_lock_customer`), so two placements at once cannot
    both pass the count."""
    config = current_app.config
    take(order_limits(customer_id, config["ORDERS_PER_CUSTOMER_PER_MINUTE"]), what="orders placed")
    if unpaid >= config["MAX_UNPAID_ORDERS"]:
        raise Conflict(f"You already have {unpaid} unpaid orders; pay or cancel one before placing another.",
                       {"unpaid_orders": unpaid, "max_unpaid_orders": config["MAX_UNPAID_ORDERS"]},
                       code="too_many_unpaid_orders")


# The statements, built once (their compiled forms then come from SQLAlchemy's cache), on the tables (Core: rows
# of plain values, no ORM instances). Bind parameters of one name are one value.
_orders, _customers, _stores, _hours = Order.__table__, Customer.__table__, Store.__table__, StoreHours.__table__
_skus, _products, _stock = Sku.__table__, Product.__table__, StoreStock.__table__
_LOCK = select(_customers.c.id).where(_customers.c.id == bindparam("customer_id")).with_for_update()
_BY_KEY = select(_orders.c.id, _orders.c.order_no, _orders.c.request_hash).where(
    _orders.c.customer_id == bindparam("customer_id"), _orders.c.idempotency_key == bindparam("key"))
# SKUs with their products and stock rows; what the store sells of :sku_ids is those of its stock rows, active.
_SOLD_HERE = _skus.join(_products, _products.c.id == _skus.c.product_id).join(_stock, _stock.c.sku_id == _skus.c.id)
# Everything a placement reads, after the lock, in one SELECT (one round trip where there were seven): the unpaid
# orders (the cap), an earlier order with this Idempotency-Key, the seat holding the customer at this store (issue
# 17), whether the cart holds lines at this store, the store, its opening intervals on the weekdays that can decide
# whether it is open now (and at pickup_at), and the ordered SKUs it sells, priced. The customer's row is the
# anchor, so there is always a row (a missing store: NULLs); the rows are the intervals times the SKUs found (2 x 3
# at most without a pickup_at), and the subqueries, uncorrelated, are evaluated once however many rows there are.
_CONTEXT = (
    select(select(func.count()).select_from(_orders).where(
               _orders.c.customer_id == bindparam("customer_id"),
               _orders.c.status == OrderStatus.PENDING_PAYMENT.value).scalar_subquery().label("unpaid"),
           _BY_KEY.with_only_columns(_orders.c.id).scalar_subquery().label("earlier_id"),
           holding_seat_id().label("seat_id"), any_lines_in_cart().label("in_cart"),
           _stores.c.name, _stores.c.active, _hours.c.weekday, _hours.c.open_min, _hours.c.close_min,
           _skus.c.id.label("sku_id"), _products.c.id.label("product_id"), _products.c.title, _skus.c.spec,
           _skus.c.price_fen)
    .select_from(
        _customers.outerjoin(_stores, _stores.c.id == bindparam("store_id"))
        .outerjoin(_hours, (_hours.c.store_id == _stores.c.id)
                   & _hours.c.weekday.in_([bindparam(f"day{n}") for n in range(4)]))
        .outerjoin(_SOLD_HERE, (_stock.c.store_id == _stores.c.id) & _skus.c.id.in_(bindparam("sku_ids", expanding=True))
                   & _skus.c.active.is_(True) & _products.c.active.is_(True)))
    .where(_customers.c.id == bindparam("customer_id"))
)


def _lock_customer(customer_id: int) -> Connection:
    """One placement at a time per customer. The lock must open the unit's snapshot (MariaDB fixes it at the first
    plain read, not at a locking one): when the token was read from the database first (a token cache miss), that
    read is committed so that the lock comes first. Returns the unit's connection, for the statements after."""
    commit_so_a_lock_comes_first(only_if_read=True)
    conn = db.session.connection()
    conn.execute(_LOCK, {"customer_id": customer_id})
    return conn


def _read_context(conn: Connection, customer_id: int, store_id: int, lines: dict[int, int], key: str | None,
                  now: datetime, now_local: datetime, pickup_at: datetime | None) -> _Context:
    # Open now: today's intervals and yesterday's (one may run past midnight); at pickup_at (within a day), those of
    # its day and the day before too. Four plain parameters, repeated without a pickup_at: an expanding IN would
    # have its SQL rendered again at each execution.
    pickup_day = local_now(current_app.config["STORE_TIMEZONE"], pickup_at) if pickup_at else now_local
    days = (now_local.weekday(), now_local.weekday() - 1, pickup_day.weekday(), pickup_day.weekday() - 1)
    rows = conn.execute(_CONTEXT, {"customer_id": customer_id, "store_id": store_id, "key": key, "now": now,
                                   "sku_ids": list(lines), **{f"day{n}": day % 7 for n, day in enumerate(days)}}).all()
    first = rows[0]
    return _Context(unpaid=first.unpaid, earlier_id=first.earlier_id, seat_id=first.seat_id,
                    in_cart=bool(first.in_cart), store_name=first.name, store_active=bool(first.active),
                    hours=list({(r.weekday, r.open_min, r.close_min): r for r in rows if r.weekday is not None}.values()),
                    priced={r.sku_id: r for r in rows if r.sku_id is not None})


def _earlier_order(customer_id: int, key: str, fingerprint: str) -> Order | None:
    row = db.session.connection().execute(_BY_KEY, {"customer_id": customer_id, "key": key}).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise _key_reused(row.order_no)
    return db.session.get_one(Order, row.id)


def _checked_replay(order: Order, fingerprint: str) -> Order:
    if order.request_hash != fingerprint:
        raise _key_reused(order.order_no)
    return order


def _key_reused(order_no: str) -> Conflict:
    return Conflict("This Idempotency-Key was already used for a different order.", {"order_no": order_no},
                    code="idempotency_key_reused")


def _priced_items(found: dict[int, Row[Any]], lines: dict[int, int]) -> list[PlacedItem]:
    """Snapshots of what is bought, priced from the catalog (`found`: what the store sells of them), in SKU order.
    Every SKU must be active, on an active product, and carried by this store (a stock row there)."""
    missing = sorted(set(lines) - set(found))
    if missing:
        raise Conflict(f"SKU {missing[0]} is not sold at this store.", {"sku_id": missing[0], "sku_ids": missing},
                       code="sku_unavailable")
    return [PlacedItem(sku_id, row.product_id, row.title, row.spec, row.price_fen, lines[sku_id])
            for sku_id in sorted(lines) for row in [found[sku_id]]]
