"""What an order notification says: the values a NOTIFICATION_TEMPLATES mapping can name, filled into the keywords
of the templates the merchant chose in the WeChat consoles."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Order, Refund, utcnow
from app.wechat.templates import fit

ORDER_PAGE = "pages/order/detail?order_no={order_no}"

# kind -> (status phrase, at most 5 characters for a `phrase` field; the note)
_WORDING = {
    "paid": ("已支付", "请到店出示取货码取货"),
    "ready": ("待取货", "商品已备好，请到店取货"),
    "picked_up": ("已取货", "感谢光临，欢迎再来"),
    "refunded": ("已退款", "退款将原路退回"),
    "late": ("已超时", "抱歉晚了，补偿券已放入卡包"),  # issue 18: a late order and its compensation coupon
}


def pickup_code_for(order: Order) -> str | None:
    """The live code the customer shows at the counter, grouped as it is read out; None when the order has none
    (unpaid), or it is dead (revoked by a refund, redeemed, past its deadline). Every message reads well without."""
    from app.pickup.codes import code_for_order, format_code

    code = code_for_order(order.id)
    if code is None or code.revoked_at or code.redeemed_at or code.expires_at <= utcnow():
        return None
    return format_code(code.code)


def order_page(order: Order) -> str:
    return ORDER_PAGE.format(order_no=order.order_no)


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def _event_at(order: Order, status: str) -> datetime | None:
    return next((e.created_at for e in reversed(order.events) if e.to_status == status), None)


def notification_values(order: Order, kind: str) -> dict[str, object]:
    """Every value a NOTIFICATION_TEMPLATES mapping may name (API.md), raw: the template fits them per keyword."""
    from app.pickup.codes import code_for_order

    code = code_for_order(order.id)
    payment = order.payment
    refunded = sum(r.amount_fen for r in db.session.scalars(select(Refund).where(Refund.order_id == order.id)))
    return {
        "order_no": order.order_no,
        "store_name": order.store.name,
        "store_address": getattr(order.store, "address", "") or order.store.name,
        "items": "; ".join(f"{i.title}×{i.quantity}" for i in order.items),
        "payable": getattr(order, "payable_fen", None) or order.total_fen,
        "total": order.total_fen,
        "status": _WORDING[kind][0],
        "paid_at": payment.paid_at if payment is not None else None,
        "ready_at": _event_at(order, "ready"),
        "picked_up_at": _event_at(order, "picked_up"),
        "promised_ready_at": getattr(order, "promised_ready_at", None),
        "pickup_code": pickup_code_for(order) or _WORDING[kind][1],
        "pickup_deadline": code.expires_at if code is not None else None,
        "refund_amount": refunded or order.total_fen,
    }


def fill_template(fields: dict[str, str], values: dict[str, object], now: datetime | None = None) -> dict[str, str]:
    """{keyword: value fitted to the keyword's type} for one template (see app/wechat/templates.py)."""
    now = now or utcnow()
    return {keyword: fit(keyword, values.get(value_name), now) for keyword, value_name in fields.items()}
