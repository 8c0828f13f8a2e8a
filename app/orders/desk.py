"""The merchant's desk: what a store has to do today, order search, and the two actions an operator takes on an
order (mark ready, refund). The same transitions and refund path as the staff app and the sweeps use; the caller
(the console) passes the stores the operator may see, and every query is limited to them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, InvalidRequest, NotFound
from app.extensions import db
from app.models import Customer, Order, OrderStatus, PickupAttempt, PickupCode, Refund, utcnow
from app.notifications.sending import enqueue_order_notification
from app.orders.state import transition

S = OrderStatus
REFUNDABLE = (S.PAID.value, S.READY.value, S.REFUND_FAILED.value)
NO_SHOW_HORIZON = timedelta(hours=2)
MAX_REASON = 60


@dataclass
class Board:
    waiting: list[tuple[Order, PickupCode | None]]  # paid, oldest first
    ready: list[tuple[Order, PickupCode | None]]
    picked_up: list[tuple[Order, PickupCode | None]]  # today, latest first
    no_shows_soon: list[tuple[Order, PickupCode]]  # deadline within NO_SHOW_HORIZON


def local_day_start(now: datetime | None = None) -> datetime:
    """Midnight today in the stores' time zone, as UTC."""
    tz = ZoneInfo(current_app.config["STORE_TIMEZONE"])
    local = (now or utcnow()).astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def today_board(store_id: int, now: datetime | None = None) -> Board:
    now = now or utcnow()
    rows = db.session.execute(
        select(Order, PickupCode).outerjoin(PickupCode, PickupCode.order_id == Order.id)
        .where(Order.store_id == store_id,
               Order.status.in_([S.PAID.value, S.READY.value]) | (
                   (Order.status == S.PICKED_UP.value) & (PickupCode.redeemed_at >= local_day_start(now))))
        .options(selectinload(Order.items)).order_by(Order.created_at, Order.id)).all()
    board = Board([], [], [], [])
    for order, code in rows:
        if order.status == S.PAID.value:
            board.waiting.append((order, code))
        elif order.status == S.READY.value:
            board.ready.append((order, code))
        else:
            board.picked_up.append((order, code))
        if order.status != S.PICKED_UP.value and code is not None and code.redeemed_at is None \
                and code.expires_at <= now + NO_SHOW_HORIZON:
            board.no_shows_soon.append((order, code))
    board.picked_up.sort(key=lambda row: row[1].redeemed_at if row[1] else row[0].created_at, reverse=True)
    return board


def store_order(order_no: str, store_ids: set[int] | None) -> Order:
    """One order, if it belongs to a store the operator may see (else as absent as a missing one)."""
    query = select(Order).where(Order.order_no == order_no).options(selectinload(Order.items))
    if store_ids is not None:
        query = query.where(Order.store_id.in_(store_ids or [-1]))
    order = db.session.scalar(query)
    if order is None:
        raise NotFound(f"订单 {order_no} 不存在。")
    return order


def search_orders(store_ids: set[int] | None, *, order_no: str = "", phone_last4: str = "", status: str = "",
                  store_id: int | None = None, day: date | None = None, offset: int = 0, limit: int = 50
                  ) -> tuple[list[Order], int]:
    where: list[ColumnElement[bool]] = []
    if store_ids is not None:
        where.append(Order.store_id.in_(store_ids or [-1]))
    if order_no:
        where.append(Order.order_no == order_no.strip())
    if phone_last4:
        if not (len(phone_last4) == 4 and phone_last4.isdigit()):
            raise InvalidRequest("手机号后四位应为 4 位数字。", {"fields": {"phone": "four_digits"}})
        where.append(Order.customer_id.in_(select(Customer.id).where(Customer.phone.like(f"%{phone_last4}"))))
    if status:
        if status not in {s.value for s in S}:
            raise InvalidRequest("未知的订单状态。", {"fields": {"status": "unknown"}})
        where.append(Order.status == status)
    if store_id is not None:
        where.append(Order.store_id == store_id)
    if day is not None:
        start = local_day_start(datetime.combine(day, datetime.min.time(),
                                                 ZoneInfo(current_app.config["STORE_TIMEZONE"])))
        where += [Order.created_at >= start, Order.created_at < start + timedelta(days=1)]
    total = db.session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    orders = db.session.scalars(select(Order).where(*where).order_by(Order.created_at.desc(), Order.id.desc())
                                .offset(offset).limit(limit)).all()
    return list(orders), total


@dataclass
class OrderRecord:
    order: Order
    code: PickupCode | None
    refunds: list[Refund]
    attempts: list[PickupAttempt]


def order_record(order: Order) -> OrderRecord:
    code = db.session.scalar(select(PickupCode).where(PickupCode.order_id == order.id))
    refunds = list(db.session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))
    attempts = list(db.session.scalars(select(PickupAttempt).where(PickupAttempt.order_id == order.id)
                                       .order_by(PickupAttempt.id)))
    return OrderRecord(order, code, refunds, attempts)


def mark_ready(order: Order, actor: str) -> bool:
    """paid -> ready and the customer is told; pressing it twice is harmless. Returns whether it changed.
    Flushes; the caller commits."""
    if order.status == S.READY.value:
        return False
    transition(order, S.READY, "prepared", actor)
    enqueue_order_notification(order, "ready")
    return True


def refund(order: Order, reason: str, actor: str) -> Refund:
    """An operator's full refund of a paid or ready order (or another try of a failed one): the same path as a
    no-show, so the stock goes back, the code dies and WeChat Pay is asked after the commit. Flushes."""
    from app.payments.refunds import start_refund

    reason = " ".join(reason.split())
    if not reason:
        raise InvalidRequest("请填写退款原因。", {"fields": {"reason": "required"}})
    if len(reason) > MAX_REASON:
        raise InvalidRequest(f"退款原因最多 {MAX_REASON} 个字。", {"fields": {"reason": "too_long"}})
    if order.status not in REFUNDABLE:
        raise Conflict(f"订单当前状态（{order.status}）不能退款。", {"status": order.status},
                       code="order_not_refundable")
    return start_refund(order, reason, actor)
