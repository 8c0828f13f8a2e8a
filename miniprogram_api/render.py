"""JSON shapes of the resources the mini-programs read (field names per API.md)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.customers.service import mask_phone
from app.models import Customer, Order
from app.orders.cart import CartLine
from app.orders.placement import PlacedOrder
from app.stores.service import StoreView, opening_hours


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def store_json(view: StoreView, detail: bool = False) -> dict[str, Any]:
    s = view.store
    data: dict[str, Any] = {"id": s.id, "name": s.name, "address": s.address, "latitude": s.latitude,
                            "longitude": s.longitude, "phone": s.phone, "open_now": view.open_now}
    if view.distance_m is not None:
        data["distance_m"] = view.distance_m
    if detail:
        data["opening_hours"] = opening_hours(s)
    return data


def customer_json(customer: Customer) -> dict[str, Any]:
    # Never the openid's session_key; the phone is the customer's own, shown masked as on a receipt.
    return {"id": customer.id, "phone": mask_phone(customer.phone), "has_phone": bool(customer.phone),
            "created_at": iso(customer.created_at)}


def order_json(order: Order | PlacedOrder) -> dict[str, Any]:
    # A new order is a PlacedOrder (the values its placement wrote, app/orders/placement.py), any other an Order.
    return {
        "order_no": order.order_no, "status": order.status, "total_fen": order.total_fen, "remark": order.remark,
        "store": {"id": order.store.id, "name": order.store.name},
        "items": [{"sku_id": i.sku_id, "product_id": i.product_id, "title": i.title, "spec": i.spec,
                   "unit_price_fen": i.unit_price_fen, "quantity": i.quantity} for i in order.items],
        "created_at": iso(order.created_at), "expires_at": iso(order.expires_at),
        # Issue 18: what a coupon took off, what is paid, and when the store promises it ready.
        "discount_fen": order.discount_fen, "payable_fen": order.payable_fen, "coupon_id": order.coupon_id,
        "pickup_at": iso(order.pickup_at), "promised_ready_at": iso(order.promised_ready_at),
        "late": order.promise_outcome == "late" if order.promise_outcome else None,
    }


def cart_json(store_id: int, lines: list[CartLine]) -> dict[str, Any]:
    items = [{"sku_id": l.sku.id, "product_id": l.product.id, "title": l.product.title, "spec": l.sku.spec,
              "price_fen": l.sku.price_fen, "quantity": l.quantity, "stock": l.stock, "available": l.available}
             for l in lines]
    return {"store_id": store_id, "items": items,
            "total_fen": sum(l.sku.price_fen * l.quantity for l in lines if l.available)}
