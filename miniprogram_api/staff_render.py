"""JSON shapes of what the staff mini-program reads."""
from __future__ import annotations

from typing import Any

from app.customers.service import mask_phone
from app.extensions import db
from app.models import Customer, Order, PickupCode, StaffSeat
from app.pickup.codes import format_code
from app.pickup.handover import REDEEMABLE, Pickup, redeemed_by
from app.pickup.queries import LogEntry
from miniprogram_api.render import iso


def seat_json(seat: StaffSeat) -> dict[str, Any]:
    return {"id": seat.id, "store_id": seat.store_id, "role": seat.role, "name": seat.name}


def _items(order: Order) -> list[dict[str, Any]]:
    return [{"sku_id": i.sku_id, "title": i.title, "spec": i.spec, "unit_price_fen": i.unit_price_fen,
             "quantity": i.quantity} for i in order.items]


def pickup_json(pickup: Pickup) -> dict[str, Any]:
    """The counter's preview: enough to find the bag and check it, the phone masked as on a receipt."""
    order, code = pickup.order, pickup.code
    customer = db.session.get(Customer, order.customer_id)
    return {
        "order_no": order.order_no, "status": order.status, "total_fen": order.total_fen, "remark": order.remark,
        "items": _items(order), "customer": {"phone": mask_phone(customer.phone) if customer else None},
        "code": format_code(code.code), "pickup_deadline": iso(code.expires_at),
        "redeemable": order.status in REDEEMABLE and code.redeemed_at is None and code.revoked_at is None,
        "redeemed_at": iso(code.redeemed_at), "redeemed_by": redeemed_by(code),
        "created_at": iso(order.created_at), "pickup_at": iso(order.pickup_at),
        "promised_ready_at": iso(order.promised_ready_at),
    }


def awaiting_json(order: Order, code: PickupCode) -> dict[str, Any]:
    return {"order_no": order.order_no, "status": order.status, "total_fen": order.total_fen,
            "remark": order.remark, "items": _items(order), "paid_at": iso(code.created_at),
            "pickup_deadline": iso(code.expires_at), "pickup_at": iso(order.pickup_at),
            "promised_ready_at": iso(order.promised_ready_at)}


def log_json(entry: LogEntry) -> dict[str, Any]:
    a = entry.attempt
    return {"id": a.id, "at": iso(a.at), "action": a.action, "via": a.via, "outcome": a.outcome,
            "order_no": entry.order_no, "staff": seat_json(entry.seat)}
