"""Placing, listing, reading and cancelling the customer's own orders."""
from __future__ import annotations

import re
from datetime import datetime

from flask import jsonify, request

from app.errors import NotFound, invalid_field
from app.extensions import db
from app.models import Order, OrderStatus
from app.orders.cancellation import cancel_by_customer
from app.orders.placement import MAX_LINES, MAX_QUANTITY, place_order
from app.orders.queries import customer_order, customer_orders
from app.payments.service import start_payment
from miniprogram_api import consumer
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.params import body_int, body_list, body_str, json_body, page_of, paging, query_str
from miniprogram_api.render import order_json

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_ORDER_NO = re.compile(r"^[0-9]{1,32}$")
# ISO 8601 with an offset, ASCII digits only ("2026-12-01T12:30:00+08:00" or "…Z").
_PICKUP_AT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$")
STATUSES = tuple(s.value for s in OrderStatus)


def _lines(body: dict) -> dict[int, int]:
    """[{sku_id, quantity}, …] -> {sku_id: quantity}; a SKU named twice is one line with the quantities added."""
    lines: dict[int, int] = {}
    for index, entry in enumerate(body_list(body, "items", max_items=MAX_LINES)):
        if not isinstance(entry, dict):
            raise invalid_field(f"items[{index}]", "must be an object with sku_id and quantity")
        sku_id = body_int(entry, "sku_id", minimum=1)
        quantity = body_int(entry, "quantity", minimum=1, maximum=MAX_QUANTITY)
        lines[sku_id] = lines.get(sku_id, 0) + quantity
        if lines[sku_id] > MAX_QUANTITY:
            raise invalid_field(f"items[{index}].quantity", f"at most {MAX_QUANTITY} of one SKU per order")
    return lines


def _pickup_at(body: dict) -> datetime | None:
    value = body.get("pickup_at")
    if value is None:
        return None
    if not isinstance(value, str) or not _PICKUP_AT.match(value):
        raise invalid_field("pickup_at", "must be an ISO 8601 time with its offset, like 2026-12-01T12:30:00+08:00")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_field("pickup_at", "is not a valid time") from None


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise invalid_field("Idempotency-Key", "1-64 characters of letters, digits and _.:-")
    return key


def _order_or_404(order_no: str) -> Order:
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist.")  # a malformed number is as absent as any other
    return customer_order(current_customer(), order_no)


@consumer.post("/orders")
@customer_required
def create_order():
    key = _idempotency_key()
    body = json_body()
    store_id = body_int(body, "store_id", minimum=1)
    lines = _lines(body)
    remark = body_str(body, "remark", max_length=200, required=False, default="")
    coupon_id = body_int(body, "coupon_id", minimum=1, required=False)
    pickup_at = _pickup_at(body)
    customer = current_customer()
    placement = place_order(customer, store_id, lines, remark, key, coupon_id=coupon_id, pickup_at=pickup_at)
    # Rendered before the commit, from what is in the session: after it the ORM would read the order, its items
    # and store back (three round trips) only to print what it just wrote. If the commit fails, this is discarded.
    body = order_json(placement.order)
    db.session.commit()
    response = jsonify(body)
    # A repeat with the same Idempotency-Key gets the first result again, marked as a replay.
    if not placement.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@consumer.get("/orders")
@customer_required
def list_orders():
    status = query_str("status", max_length=20, choices=STATUSES)
    page, per_page, offset = paging()
    orders, total = customer_orders(current_customer(), status, offset, per_page)
    return jsonify(page_of([order_json(o) for o in orders], page, per_page, total))


@consumer.get("/orders/<order_no>")
@customer_required
def get_order(order_no: str):
    return jsonify(order_json(_order_or_404(order_no)))


@consumer.post("/orders/<order_no>/cancel")
@customer_required
def cancel_order(order_no: str):
    order = _order_or_404(order_no)
    cancel_by_customer(order, current_customer().id)
    db.session.commit()
    return jsonify(order_json(order))


@consumer.post("/orders/<order_no>/pay")
@customer_required
def pay_order(order_no: str):
    """The wx.requestPayment fields: {timeStamp, nonceStr, package, signType, paySign}."""
    return jsonify(start_payment(_order_or_404(order_no), current_customer()))
