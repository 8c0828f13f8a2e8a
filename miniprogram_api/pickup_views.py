"""The customer's side of pickup: the code to read out and a fresh QR token to show at the counter."""
from __future__ import annotations

import re

from flask import jsonify

from app.errors import Conflict, NotFound
from app.models import utcnow
from app.orders.queries import customer_order
from app.pickup.codes import code_for_order, format_code
from app.pickup.handover import REDEEMABLE
from app.pickup.qr import issue_qr_token
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.render import iso
from miniprogram_api.schemas.pickup import CustomerPickupOut

_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


@consumer.get("/orders/<order_no>/pickup")
@customer_required
@operation(tags=("customer", "pickup"), ok=CustomerPickupOut, authenticated=True, errors=(404, 409))
def order_pickup(order_no: str):
    """The pickup code and a fresh QR token of a paid or ready order; 409 order_not_redeemable otherwise"""
    # Called again by the app whenever the QR token is about to expire.
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist.")
    order = customer_order(current_customer(), order_no)  # another customer's order is a 404, as everywhere
    pickup = code_for_order(order.id)
    if (order.status not in REDEEMABLE or pickup is None or pickup.revoked_at is not None
            or pickup.redeemed_at is not None or pickup.expires_at <= utcnow()):
        raise Conflict(f"Order {order.order_no} has nothing to pick up (status {order.status}).",
                       {"status": order.status}, code="order_not_redeemable")
    qr_token, qr_expires_at = issue_qr_token(pickup)
    store = order.store
    return jsonify(order_no=order.order_no, status=order.status, code=format_code(pickup.code), qr_token=qr_token,
                   qr_expires_at=iso(qr_expires_at), pickup_deadline=iso(pickup.expires_at),
                   store={"id": store.id, "name": store.name, "address": store.address, "phone": store.phone,
                          "latitude": store.latitude, "longitude": store.longitude})
