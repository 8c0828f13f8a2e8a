"""What the account says: welcome, store cards, nearest stores, orders, pickup, keyword rules. An answer is a text
(str) or news articles (list of dicts with title, description, url, image), sent as a passive reply or later
through the customer-service API."""
from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Union

from flask import current_app

from app.models import Customer, OrderStatus, ReplyRule, Store
from app.notifications.content import order_page, pickup_code_for, yuan
from app.orders.queries import customer_orders
from app.stores.hours import format_minute, is_open, local_now
from app.stores.service import CardView, StoreCard, nearest_open_cards

Answer = Union[str, list[dict[str, str]]]
HOME_PAGE = "pages/index/index"
ORDERS_PAGE = "pages/order/list"
STORE_PAGE = "pages/store/index?id={store_id}"
LINK_PAGE = "pages/account/link?token={token}"
NEAREST_RADIUS_KM = 20
NEAREST_COUNT = 3
RECENT_ORDERS = 5
STATUS_NAMES = {
    OrderStatus.PENDING_PAYMENT: "待支付", OrderStatus.PAID: "已支付", OrderStatus.READY: "待取货",
    OrderStatus.PICKED_UP: "已取货", OrderStatus.CANCELLED: "已取消", OrderStatus.REFUNDING: "退款中",
    OrderStatus.REFUNDED: "已退款",
}


def miniprogram_link(label: str, path: str) -> str:
    """A text link that opens the mini-program; `href` is what WeChat clients too old for it open instead."""
    home, appid = escape(current_app.config["PUBLIC_BASE_URL"]), escape(current_app.config["MINIPROGRAM_APPID"])
    return (f'<a href="{home}" data-miniprogram-appid="{appid}" data-miniprogram-path="{escape(path)}">'
            f"{escape(label)}</a>")


def welcome() -> str:
    return ("欢迎关注！在线选购，到店自提，不用排队。\n"
            f"👉 {miniprogram_link('打开小程序去下单', HOME_PAGE)}\n"
            "回复「门店」找附近的店，「订单」查订单，「取货码」看取货信息。")


def _hours_text(store: Store | StoreCard, now_local: datetime) -> str:
    by_day = {d: [(h.open_min, h.close_min) for h in store.hours if h.weekday == d] for d in range(7)}

    def spans(day: int) -> str:
        return "、".join(f"{format_minute(o)}-{format_minute(c)}" for o, c in by_day[day]) or "休息"

    if all(by_day[d] == by_day[0] for d in range(7)):
        return f"每天 {spans(0)}"
    return f"今天 {spans(now_local.weekday())}"


def distance_text(metres: int) -> str:
    return f"{metres} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def store_card(store: Store) -> str:
    now_local = local_now(current_app.config["STORE_TIMEZONE"])
    state = "营业中" if is_open(store.hours, now_local) else "休息中"
    lines = [f"【{store.name}】{state}", f"地址：{store.address}", f"营业时间：{_hours_text(store, now_local)}"]
    if store.phone:
        lines.append(f"电话：{store.phone}")
    lines.append(miniprogram_link("进店下单", STORE_PAGE.format(store_id=store.id)))
    return "\n".join(lines)


def _nearby_line(index: int, view: CardView, now_local: datetime) -> str:
    store = view.store
    return (f"{index}. {store.name}（{distance_text(view.distance_m or 0)}）\n"
            f"   {store.address}\n   {_hours_text(store, now_local)}  "
            f"{miniprogram_link('进店', STORE_PAGE.format(store_id=store.id))}")


def nearest_open(lat: float, lng: float) -> str:
    # The stores from the catalog cache, not the database: a location answers with no SQL of its own (S4).
    views = nearest_open_cards(lat, lng, NEAREST_RADIUS_KM, NEAREST_COUNT)
    if not views:
        return f"{NEAREST_RADIUS_KM} 公里内暂时没有营业中的门店。\n{miniprogram_link('看看全部门店', HOME_PAGE)}"
    now_local = local_now(current_app.config["STORE_TIMEZONE"])
    lines = [_nearby_line(i, view, now_local) for i, view in enumerate(views, start=1)]
    return "离你最近的营业中门店：\n" + "\n".join(lines)


def stores_help() -> str:
    return ("找门店：点输入框旁的「+」，选「位置」发送你的位置，我会告诉你最近的三家营业中门店。\n"
            f"也可以 {miniprogram_link('在小程序里看全部门店', HOME_PAGE)}")


def not_linked() -> str:
    return (f"还没有找到你的订单。请先 {miniprogram_link('在小程序登录', HOME_PAGE)}，"
            "下单后再回复「订单」即可查看；已在小程序下过单，请回复「绑定」关联账号。")


def link_invitation(token: str) -> str:
    """The one-time link (10 minutes) that ties this follower to the customer who opens it in the mini-program."""
    return (f"{miniprogram_link('点此在小程序里完成绑定', LINK_PAGE.format(token=token))}（10 分钟内有效，"
            "仅限一次）。绑定后回复「订单」「取货码」即可查看，订单通知也会发到这里。")


def already_linked() -> str:
    return "你的公众号已与小程序账号绑定，回复「订单」或「取货码」即可查看。"


def recent_orders(customer: Customer) -> str:
    orders, total = customer_orders(customer, None, 0, RECENT_ORDERS)
    if not orders:
        return f"你还没有订单。{miniprogram_link('去下单', HOME_PAGE)}"
    lines = [f"{i}. {o.order_no} {STATUS_NAMES.get(OrderStatus(o.status), o.status)} {yuan(o.total_fen)}"
             f" · {o.store.name}" for i, o in enumerate(orders, start=1)]
    more = f"（共 {total} 笔，显示最近 {len(orders)} 笔）\n" if total > len(orders) else ""
    return "你最近的订单：\n" + "\n".join(lines) + f"\n{more}{miniprogram_link('查看全部订单', ORDERS_PAGE)}"


def pickup(customer: Customer, show_codes: bool = True) -> str:
    """Orders awaiting pickup, each with its live pickup code (or a link to show it in the mini-program; always the
    link when `show_codes` is False)."""
    waiting = [o for status in (OrderStatus.READY, OrderStatus.PAID)
               for o in customer_orders(customer, status.value, 0, RECENT_ORDERS)[0]]
    if not waiting:
        return "你没有待取货的订单。"
    lines = []
    for order in waiting:
        code = pickup_code_for(order) if show_codes else None
        how = f"取货码 {code}" if code else miniprogram_link("打开订单出示取货码", order_page(order))
        lines.append(f"{order.order_no} · {order.store.name} · "
                     f"{STATUS_NAMES[OrderStatus(order.status)]}\n   {how}")
    return "待取货的订单：\n" + "\n".join(lines)


def from_rule(rule: ReplyRule) -> Answer:
    if rule.reply_type == "news":
        return [{"title": rule.title, "description": rule.content, "url": rule.url, "image": rule.image_url}]
    return rule.content


def fallback() -> str:
    return ("收到～ 回复「订单」查订单，「取货码」看取货信息，「门店」找附近的店，或发送你的位置。\n"
            f"{miniprogram_link('打开小程序下单', HOME_PAGE)}")
