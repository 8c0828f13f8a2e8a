"""What an order notification says. The data keys must match the templates chosen in the WeChat consoles
(one subscribe template per kind in the mini-program, one order-status template in the official account)."""
from __future__ import annotations

from app.models import Order, utcnow

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


def _thing(text: str) -> str:
    """`thing` fields take at most 20 characters."""
    return text if len(text) <= 20 else text[:19] + "…"


def notification_data(order: Order, kind: str) -> dict[str, dict[str, str]]:
    phrase, note = _WORDING[kind]
    code = pickup_code_for(order) if kind == "paid" else None
    if code:
        note = f"取货码 {code}，到店出示即可"
    return {
        "character_string1": {"value": order.order_no},
        "thing2": {"value": _thing(order.store.name)},
        "phrase3": {"value": phrase},
        "amount4": {"value": yuan(order.payable_fen)},  # what was paid, after a coupon
        "thing5": {"value": _thing(note)},
    }
