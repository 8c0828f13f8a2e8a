"""The server-side cart per customer and store."""
from __future__ import annotations

from flask import jsonify

from app.orders import cart
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.render import cart_json
from miniprogram_api.schemas.cart import CartItemBody, CartOut, CartQuery

CART = ("customer", "cart")


@consumer.get("/cart")
@customer_required
@operation(tags=CART, query=CartQuery, ok=CartOut, authenticated=True, errors=(404,))
def get_cart(query: CartQuery):
    """The cart at one store"""
    return jsonify(cart_json(query.store_id, cart.cart_lines(current_customer(), query.store_id)))


@consumer.put("/cart/items")
@customer_required
@operation(tags=CART, json=CartItemBody, ok=CartOut, authenticated=True, errors=(404, 409))
def put_cart_item(json: CartItemBody):
    """Set a cart line's quantity (1..99)"""
    cart.put_item(current_customer(), json.store_id, json.sku_id, json.quantity)
    return jsonify(cart_json(json.store_id, cart.cart_lines(current_customer(), json.store_id)))


@consumer.delete("/cart/items/<int:sku_id>")
@customer_required
@operation(tags=CART, query=CartQuery, ok=CartOut, authenticated=True, errors=(404,))
def delete_cart_item(sku_id: int, query: CartQuery):
    """Remove a cart line"""
    cart.remove_item(current_customer(), query.store_id, sku_id)
    return jsonify(cart_json(query.store_id, cart.cart_lines(current_customer(), query.store_id)))
