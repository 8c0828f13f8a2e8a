"""Store alliances: after a pickup at one member, the customer may get a coupon for another member, funded by the
member where it is redeemed (so no money moves between shops), within that member's own budget, and only from a
member whose service meets the merchant's thresholds."""
from __future__ import annotations

import logging

from sqlalchemy import select

from app import jobs
from app.coupons.issuing import CouponBudgetExhausted, CouponLimitReached, define, issue
from app.extensions import db
from app.models import Alliance, AllianceMember, Coupon, Order, OrderStatus, Store
from app.promises.figures import figures

log = logging.getLogger(__name__)


def create_alliance(name: str) -> Alliance:
    if not name or len(name) > 60:
        raise ValueError("name must be 1-60 characters")
    if db.session.scalar(select(Alliance.id).where(Alliance.name == name)) is not None:
        raise ValueError(f"an alliance named {name!r} exists")
    alliance = Alliance(name=name)
    db.session.add(alliance)
    db.session.flush()
    return alliance


def join(alliance_id: int, store_id: int, *, amount_fen: int, min_spend_fen: int, valid_days: int,
         budget_count: int | None, budget_fen: int | None, per_customer_limit: int | None = 1) -> AllianceMember:
    """The store joins with the coupon it offers the other members' customers (funded by itself, valid at itself).
    Joining again replaces its offer (the old coupons stay valid). Raises ValueError. The caller commits."""
    alliance = db.session.get(Alliance, alliance_id)
    store = db.session.get(Store, store_id)
    if alliance is None or store is None:
        raise ValueError(f"unknown {'alliance' if alliance is None else 'store'}")
    definition = define("alliance", f"{store.name}·{alliance.name}"[:60], amount_fen, valid_days, [store_id],
                        min_spend_fen=min_spend_fen, per_customer_limit=per_customer_limit,
                        budget_count=budget_count, budget_fen=budget_fen, funded_by_store_id=store_id)
    member = db.session.get(AllianceMember, (alliance_id, store_id))
    if member is None:
        member = AllianceMember(alliance_id=alliance_id, store_id=store_id, definition_id=definition.id)
        db.session.add(member)
    else:
        member.definition.active = False
        member.definition_id = definition.id
    db.session.flush()
    return member


@jobs.job
def reward_pickup(order_id: int) -> str:
    """Job after a pickup: one coupon for another member of an alliance of the pickup's store, if one can be given
    (active offer, budget left, the customer under its limit, the funding member's service good enough). Commits;
    safe to run twice (a coupon earned by this order is found)."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.PICKED_UP.value:
        return "nothing_to_do"
    candidates = list(db.session.scalars(
        select(AllianceMember).where(
            AllianceMember.alliance_id.in_(select(AllianceMember.alliance_id)
                                           .where(AllianceMember.store_id == order.store_id)),
            AllianceMember.store_id != order.store_id)
        .order_by(AllianceMember.store_id)))
    definition_ids = [m.definition_id for m in candidates]
    if not candidates:
        return "no_alliance"
    if db.session.scalar(select(Coupon.id).where(Coupon.source_order_id == order.id,
                                                 Coupon.definition_id.in_(definition_ids))) is not None:
        return "repeat"
    for member in candidates:
        definition = member.definition
        if not definition.active:
            continue
        service = figures(member.store_id)
        if not service.subsidy_allowed:
            log.info("store %s issues no alliance coupon: %s", member.store_id, "; ".join(service.reasons))
            continue
        try:
            with db.session.begin_nested():
                coupon = issue(definition, order.customer_id, source_order_id=order.id)
        except (CouponBudgetExhausted, CouponLimitReached):
            continue
        db.session.commit()
        log.info("pickup %s earned coupon %s for store %s", order.order_no, coupon.id, member.store_id)
        return "issued"
    db.session.commit()
    return "none_available"
