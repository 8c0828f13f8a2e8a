"""The customer's coupons, claiming one, and the merchant coupons a store offers (issue 18)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.models.coupons import COUPON_KINDS
from miniprogram_api.schemas.common import Body, Id, Out, Page, Paging

# What a customer sees of a coupon: the stored states, and "expired" read from expires_at.
COUPON_STATES = ("available", "locked", "used", "expired")


class CouponsQuery(Paging):
    state: Literal[COUPON_STATES] | None = Field(None, description="only coupons in this state")  # type: ignore[valid-type]


class ClaimBody(Body):
    definition_id: Id = Field(description="a merchant coupon of GET /stores/{store_id}/coupons")


class CouponOut(Out):
    id: int
    title: str
    kind: str = Field(json_schema_extra={"enum": list(COUPON_KINDS)})
    state: str = Field(json_schema_extra={"enum": list(COUPON_STATES)})
    amount_fen: int = Field(ge=1)
    min_spend_fen: int = Field(ge=0)
    store_ids: list[int] = Field(description="the stores where it may be used")
    issued_at: str | None
    expires_at: str | None
    used_at: str | None


class CouponPage(Page):
    items: list[CouponOut]


class OfferOut(Out):
    definition_id: int
    title: str
    amount_fen: int = Field(ge=1)
    min_spend_fen: int = Field(ge=0)
    valid_days: int = Field(ge=1, le=366, description="valid this many days from the claim")
    per_customer_limit: int | None = Field(ge=1, description="null: no limit")


class OfferList(Out):
    items: list[OfferOut]
