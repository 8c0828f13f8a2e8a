"""Placing, listing, reading and cancelling the customer's own orders."""
from __future__ import annotations

import re
from datetime import datetime

from flask import jsonify

from app.errors import NotFound, invalid_field
from app.models import Order
from app.orders.cancellation import cancel_by_customer
from app.orders.placement import MAX_QUANTITY, place_order
from app.orders.queries import customer_order, customer_orders
from app.payments.service import start_payment
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.params import page_of
from miniprogram_api.render import order_json
from miniprogram_api.schemas.orders import (OrderBody, OrderHeaders, OrderOut, OrderPage, OrdersQuery,
                                            PaymentParamsOut)

ORDERS = ("customer", "orders")
_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


def _lines(body: OrderBody) -> dict[int, int]:
    """[{sku_id, quantity}, …] -> {sku_id: quantity}; a SKU named twice is one line with the quantities added."""
    lines: dict[int, int] = {}
    for index, entry in enumerate(body.items):
        lines[entry.sku_id] = lines.get(entry.sku_id, 0) + entry.quantity
        if lines[entry.sku_id] > MAX_QUANTITY:
            raise invalid_field(f"items[{index}].quantity", f"at most {MAX_QUANTITY} of one SKU per order")
    return lines


def _pickup_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_field("pickup_at", "is not a valid time") from None


def _order_or_404(order_no: str) -> Order:
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist.")  # a malformed number is as absent as any other
    return customer_order(current_customer(), order_no)


@consumer.post("/orders")
@customer_required
@operation(tags=ORDERS, headers=OrderHeaders, json=OrderBody, ok=OrderOut, status=201, authenticated=True,
           errors=(404, 409, 429, 503))
def create_order(headers: OrderHeaders, json: OrderBody):
    """Place an order (Idempotency-Key honoured); 409 insufficient_stock, too_many_unpaid_orders, coupon_unavailable"""
    key, store_id, remark, coupon_id = headers.idempotency_key, json.store_id, json.remark or "", json.coupon_id
    lines = _lines(json)
    pickup_at = _pickup_at(json.pickup_at)
    customer = current_customer()
    placement = place_order(customer, store_id, lines, remark, key, coupon_id=coupon_id, pickup_at=pickup_at)
    # Rendered before the request's commit (app/uow.py), from what is in the session: after it the ORM would read
    # the order, its items and store back (three round trips) only to print what it just wrote. If the commit
    # fails, this is discarded.
    response = jsonify(order_json(placement.order))
    # A repeat with the same Idempotency-Key gets the first result again, marked as a replay.
    if not placement.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@consumer.get("/orders")
@customer_required
@operation(tags=ORDERS, query=OrdersQuery, ok=OrderPage, authenticated=True)
def list_orders(query: OrdersQuery):
    """The customer's own orders, newest first"""
    orders, total = customer_orders(current_customer(), query.status, query.offset, query.per_page)
    return jsonify(page_of([order_json(o) for o in orders], query.page, query.per_page, total))


@consumer.get("/orders/<order_no>")
@customer_required
@operation(tags=ORDERS, ok=OrderOut, authenticated=True, errors=(404,))
def get_order(order_no: str):
    """One of the customer's orders"""
    return jsonify(order_json(_order_or_404(order_no)))


@consumer.post("/orders/<order_no>/cancel")
@customer_required
@operation(tags=ORDERS, ok=OrderOut, authenticated=True, errors=(404, 409, 503))
def cancel_order(order_no: str):
    """Cancel: unpaid -> cancelled (stock released, WeChat order closed); paid/ready -> refund started"""
    order = _order_or_404(order_no)
    cancel_by_customer(order, current_customer().id)
    return jsonify(order_json(order))


@consumer.post("/orders/<order_no>/pay")
@customer_required
@operation(tags=ORDERS, ok=PaymentParamsOut, authenticated=True, errors=(404, 409, 503))
def pay_order(order_no: str):
    """JSAPI prepay: the wx.requestPayment fields {timeStamp, nonceStr, package, signType, paySign}"""
    params = start_payment(_order_or_404(order_no), current_customer())  # the request commits its prepay_id
    return jsonify(params)
