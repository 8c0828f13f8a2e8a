"""A store's service over the trailing 30 days: its average rating, its on-time rate, and whether these let it
issue subsidised coupons (alliance and merchant-funded) under the merchant's thresholds."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Order, OrderRating, utcnow

TRAILING = timedelta(days=30)


@dataclass(frozen=True)
class ServiceFigures:
    store_id: int
    rating: float | None  # average stars, None without ratings
    ratings: int
    on_time_rate: float | None  # kept / judged, None without judged orders
    judged_orders: int
    late_orders: int
    subsidy_allowed: bool = True
    reasons: list[str] = field(default_factory=list)  # why subsidies are paused, for the store to read

    def as_dict(self) -> dict:
        return {"rating": self.rating, "ratings": self.ratings, "on_time_rate": self.on_time_rate,
                "judged_orders": self.judged_orders, "late_orders": self.late_orders}


def figures(store_id: int, now: datetime | None = None) -> ServiceFigures:
    since = (now or utcnow()) - TRAILING
    stars, ratings = db.session.execute(
        select(func.avg(OrderRating.stars), func.count(OrderRating.id))
        .where(OrderRating.store_id == store_id, OrderRating.created_at >= since)).one()
    judged, late = db.session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(case((Order.promise_outcome == "late", 1), else_=0)), 0))
        .where(Order.store_id == store_id, Order.promise_outcome.is_not(None), Order.promised_ready_at >= since)
    ).one()
    judged, late, ratings = int(judged), int(late), int(ratings)  # MariaDB's SUM is a DECIMAL
    rating = round(float(stars), 2) if ratings else None
    on_time = round((judged - late) / judged, 4) if judged else None
    config = current_app.config
    minimum = config["SUBSIDY_MIN_SAMPLE"]
    reasons = []
    if judged >= minimum and on_time is not None and on_time * 100 < config["SUBSIDY_MIN_ON_TIME_PCT"]:
        reasons.append(f"on-time rate {on_time * 100:.1f}% over the last 30 days is below the "
                       f"{config['SUBSIDY_MIN_ON_TIME_PCT']}% needed")
    if ratings >= minimum and rating is not None and rating < config["SUBSIDY_MIN_RATING"]:
        reasons.append(f"average rating {rating:.2f} over the last 30 days is below the "
                       f"{config['SUBSIDY_MIN_RATING']:.1f} needed")
    return ServiceFigures(store_id, rating, ratings, on_time, judged, late, not reasons, reasons)


def subsidy_thresholds() -> dict:
    config = current_app.config
    return {"min_on_time_pct": config["SUBSIDY_MIN_ON_TIME_PCT"], "min_rating": config["SUBSIDY_MIN_RATING"],
            "min_sample": config["SUBSIDY_MIN_SAMPLE"]}
