"""Rating a picked-up order, a store's ratings for its manager, and its service figures for its staff (issue 18)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.promises.ratings import MAX_COMMENT, MAX_TAG_LENGTH, MAX_TAGS
from miniprogram_api.schemas.common import Body, Out, Page, Paging, text

# Stored joined by commas: a tag holds none.
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_LENGTH, pattern=r"^[^,]+$")]


class RatingBody(Body):
    stars: int = Field(ge=1, le=5)
    tags: list[Tag] | None = Field(None, max_length=MAX_TAGS, description="short words, like 快 or 凉了")
    comment: text(MAX_COMMENT, min_length=0) | None = None  # type: ignore[valid-type]


class RatingOut(Out):
    order_no: str
    stars: int = Field(ge=1, le=5)
    tags: list[str]
    comment: str | None
    flagged: bool = Field(description="a low rating, listed for the store's manager")
    created_at: str | None


class RatingsQuery(Paging):
    flagged: Literal["0", "1"] | None = Field(None, description="1: only the low ratings")


class RatingPage(Page):
    items: list[RatingOut]


class ThresholdsOut(Out):
    min_on_time_pct: float
    min_rating: float
    min_sample: int


class ServiceOut(Out):
    """A store's public service figures over the trailing 30 days (GET /stores/{id} carries them as `service`)."""
    rating: float | None = Field(description="average stars; null without ratings")
    ratings: int = Field(ge=0)
    on_time_rate: float | None = Field(ge=0, le=1, description="null without judged orders")
    judged_orders: int = Field(ge=0)
    late_orders: int = Field(ge=0)
    prep_minutes_now: int = Field(ge=0, description="minutes an order placed now takes to prepare")
    grace_minutes: int = Field(ge=0, description="minutes past the promise before an order counts as late")


class StoreServiceOut(ServiceOut):
    """What the store's staff see: the figures, the merchant's thresholds, whether subsidies are paused and why."""
    subsidy_allowed: bool = Field(description="false: subsidised coupons are paused (see reasons)")
    reasons: list[str]
    thresholds: ThresholdsOut
