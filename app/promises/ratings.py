"""Rating an order: once, by its customer, within 7 days of pickup; a low rating is flagged to the store's
managers (GET /api/v1/staff/ratings)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict
from app.extensions import db
from app.models import Customer, Order, OrderEvent, OrderRating, OrderStatus, utcnow

log = logging.getLogger(__name__)
RATING_WINDOW = timedelta(days=7)
LOW_STARS = 2  # this many stars or fewer: the managers see it
MAX_TAGS, MAX_TAG_LENGTH, MAX_COMMENT = 5, 20, 200


def picked_up_at(order_id: int) -> datetime | None:
    return db.session.scalar(select(func.min(OrderEvent.created_at)).where(
        OrderEvent.order_id == order_id, OrderEvent.to_status == OrderStatus.PICKED_UP.value))


def rate(customer: Customer, order: Order, stars: int, tags: list[str], comment: str,
         now: datetime | None = None) -> OrderRating:
    """`order` is the customer's own (the adapter found it by customer). The caller commits."""
    now = now or utcnow()
    details = {"order_no": order.order_no}
    if order.status != OrderStatus.PICKED_UP.value:
        raise Conflict("Only an order that was picked up can be rated.", {**details, "status": order.status},
                       code="order_not_rateable")
    handed_over = picked_up_at(order.id)
    if handed_over is None or now - handed_over > RATING_WINDOW:
        raise Conflict("Orders can be rated within 7 days of pickup.", details, code="rating_window_closed")
    if db.session.scalar(select(OrderRating.id).where(OrderRating.order_id == order.id)) is not None:
        raise Conflict("This order was already rated.", details, code="already_rated")
    rating = OrderRating(order_id=order.id, customer_id=customer.id, store_id=order.store_id, stars=stars,
                         tags=",".join(tags), comment=comment, flagged=stars <= LOW_STARS, created_at=now)
    db.session.add(rating)
    try:
        db.session.flush()
    except IntegrityError:  # a second rating at the same instant
        raise Conflict("This order was already rated.", details, code="already_rated") from None
    if rating.flagged:
        log.info("low rating (%d stars) for order %s at store %s", stars, order.order_no, order.store_id)
    return rating


def store_ratings(store_id: int, flagged_only: bool, offset: int, limit: int) -> tuple[list[tuple], int]:
    """(rating, order_no) rows of a store, newest first, and their count."""
    query = (select(OrderRating, Order.order_no).join(Order, Order.id == OrderRating.order_id)
             .where(OrderRating.store_id == store_id))
    if flagged_only:
        query = query.where(OrderRating.flagged.is_(True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(OrderRating.created_at.desc(), OrderRating.id.desc())
                              .offset(offset).limit(limit)).all()
    return [tuple(r) for r in rows], total
