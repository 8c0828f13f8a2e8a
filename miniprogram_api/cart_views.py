"""The server-side cart per customer and store."""
from __future__ import annotations

from flask import jsonify

from app.errors import invalid_field
from app.extensions import db
from app.orders import cart
from miniprogram_api import consumer
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.params import body_int, json_body, query_int
from miniprogram_api.render import cart_json


def _store_id_arg() -> int:
    store_id = query_int("store_id", minimum=1)
    if store_id is None:
        raise invalid_field("store_id", "is required")
    return store_id


@consumer.get("/cart")
@customer_required
def get_cart():
    store_id = _store_id_arg()
    return jsonify(cart_json(store_id, cart.cart_lines(current_customer(), store_id)))


@consumer.put("/cart/items")
@customer_required
def put_cart_item():
    body = json_body()
    store_id = body_int(body, "store_id", minimum=1)
    sku_id = body_int(body, "sku_id", minimum=1)
    quantity = body_int(body, "quantity", minimum=1, maximum=99)
    cart.put_item(current_customer(), store_id, sku_id, quantity)
    db.session.commit()
    return jsonify(cart_json(store_id, cart.cart_lines(current_customer(), store_id)))


@consumer.delete("/cart/items/<int:sku_id>")
@customer_required
def delete_cart_item(sku_id: int):
    store_id = _store_id_arg()
    cart.remove_item(current_customer(), store_id, sku_id)
    db.session.commit()
    return jsonify(cart_json(store_id, cart.cart_lines(current_customer(), store_id)))
