"""A customer's coupons, and a coupon's life with an order: locked by the unpaid order that uses it, used when that
order is paid, back when it is cancelled or expires (or refunded by a customer's cancel before pickup). Every move is
one UPDATE guarded by the status it expects, so two orders racing for one coupon cannot both have it."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.errors import Conflict
from app.extensions import db
from app.models import Coupon, CouponDefinitionStore, Customer, Order, utcnow

log = logging.getLogger(__name__)


class CouponUnavailable(Conflict):
    code = "coupon_unavailable"

    def __init__(self, coupon_id: int, reason: str, message: str, **details: Any) -> None:
        super().__init__(message, {"coupon_id": coupon_id, "reason": reason, **details})


def state_of(coupon: Coupon, now: datetime | None = None) -> str:
    if coupon.status == "available" and coupon.expires_at <= (now or utcnow()):
        return "expired"
    return coupon.status


def discount_for(customer: Customer, coupon_id: int, store_id: int, total_fen: int,
                 now: datetime | None = None) -> int:
    """What the coupon takes off an order of `total_fen` at `store_id`, or 409 coupon_unavailable saying why. At
    least 1 fen stays payable: WeChat Pay's amount.total is a positive integer of fen (JSAPI/mini-program prepay,
    pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_5_1.shtml; the sandbox refuses 0 the same way)."""
    now = now or utcnow()
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or coupon.customer_id != customer.id:
        raise CouponUnavailable(coupon_id, "not_found", "You have no such coupon.")
    state = state_of(coupon, now)
    if state != "available":
        raise CouponUnavailable(coupon_id, state, f"This coupon is {state}.")
    valid_here = db.session.get(CouponDefinitionStore, (coupon.definition_id, store_id))
    if valid_here is None:
        raise CouponUnavailable(coupon_id, "other_store", "This coupon is not valid at this store.")
    if total_fen < coupon.min_spend_fen:
        raise CouponUnavailable(coupon_id, "below_minimum_spend",
                                f"This coupon needs a spend of at least {coupon.min_spend_fen} fen.",
                                min_spend_fen=coupon.min_spend_fen)
    return min(coupon.amount_fen, total_fen - 1)


def lock_for_order(coupon_id: int, now: datetime | None = None) -> None:
    """Lock the coupon for the unpaid order about to be written (orders.coupon_id names it); 409 coupon_unavailable
    if another order took it first. Called before the order row is inserted: the insert's foreign-key check takes a
    shared lock on the coupon row, and two orders each holding that while asking for this exclusive one would
    deadlock on MariaDB. The caller rolls back on the error."""
    taken = db.session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.status == "available",
                             Coupon.expires_at > (now or utcnow()))
        .values(status="locked").execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise CouponUnavailable(coupon_id, "locked", "This coupon was just used by another order.")


def use_for_order(order: Order, now: datetime | None = None) -> None:
    """The order is paid: its coupon is spent. After a cancelled order is paid late, its coupon came back meanwhile
    and is taken again if still there; if another order holds it now, this order keeps its discount all the same
    (the customer paid the payable amount) and it is logged."""
    if order.coupon_id is None:
        return
    now = now or utcnow()
    used = db.session.execute(
        update(Coupon).where(Coupon.id == order.coupon_id, Coupon.status.in_(("locked", "available")))
        .values(status="used", used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        log.warning("order %s was paid with coupon %s, which another order holds now", order.order_no,
                    order.coupon_id)


def give_back(order: Order) -> None:
    """The order is cancelled, expired, or refunded before pickup: its coupon is the customer's again (until its own
    expiry). Safe to call twice."""
    if order.coupon_id is None:
        return
    db.session.execute(
        update(Coupon).where(Coupon.id == order.coupon_id, Coupon.status.in_(("locked", "used")))
        .values(status="available", used_at=None).execution_options(synchronize_session=False))


def customer_coupons(customer: Customer, state: str | None, offset: int, limit: int,
                     now: datetime | None = None) -> tuple[list[Coupon], int]:
    now = now or utcnow()
    query = select(Coupon).where(Coupon.customer_id == customer.id)
    if state == "available":
        query = query.where(Coupon.status == "available", Coupon.expires_at > now)
    elif state == "expired":
        query = query.where(Coupon.status == "available", Coupon.expires_at <= now)
    elif state is not None:
        query = query.where(Coupon.status == state)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    coupons = list(db.session.scalars(query.order_by(Coupon.expires_at, Coupon.id).offset(offset).limit(limit)))
    return coupons, total


def valid_store_ids(definition_id: int) -> list[int]:
    return list(db.session.scalars(select(CouponDefinitionStore.store_id)
                                   .where(CouponDefinitionStore.definition_id == definition_id)
                                   .order_by(CouponDefinitionStore.store_id)))
