"""Pickup: the customer's code and QR token, and the counter's side (look up, hand over, the waiting list, the
redemption log)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.errors import InvalidRequest
from app.models import OrderStatus
from app.pickup.handover import REDEEMABLE
from miniprogram_api.schemas.common import Body, Out, Page, Paging, text
from miniprogram_api.schemas.staff import SeatOut

STATUSES = [s.value for s in OrderStatus]


class PickupStoreOut(Out):
    id: int
    name: str
    address: str | None
    phone: str | None
    latitude: float | None
    longitude: float | None


class CustomerPickupOut(Out):
    """What the customer's app shows at the counter; it asks again before `qr_expires_at`."""
    order_no: str
    status: str = Field(json_schema_extra={"enum": list(REDEEMABLE)})
    code: str = Field(description="12 digits in groups of four, to read out")
    qr_token: str = Field(description="to show as a QR code; only the latest one of an order works")
    qr_expires_at: str
    pickup_deadline: str
    store: PickupStoreOut


class CodeOrTokenBody(Body):
    """Exactly one of `code` (typed at the counter; spaces and dashes allowed) and `qr_token` (scanned). Sending both
    or neither is a 400 `invalid_request` naming both fields. A code that is not 12 digits is a 400 too, logged as an
    attempt; an unknown code is a 404 `pickup_not_found` and counts against the rate limits."""
    code: text(32) | None = None  # type: ignore[valid-type]
    qr_token: text(512) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _exactly_one(self) -> CodeOrTokenBody:
        # Raised as the envelope itself (not a ValueError): a rule of two fields names both, as it always did.
        if (self.code is None) == (self.qr_token is None):
            raise InvalidRequest("Send either code or qr_token.",
                                 {"fields": {"code": "send code or qr_token", "qr_token": "send code or qr_token"}})
        return self


class StaffItemOut(Out):
    sku_id: int
    title: str
    spec: str | None
    unit_price_fen: int = Field(ge=0)
    quantity: int = Field(ge=1)


class PickupCustomerOut(Out):
    phone: str | None = Field(description="masked, as on a receipt")


class RedeemedByOut(Out):
    seat_id: int
    name: str
    role: str


class PickupOut(Out):
    """The counter's preview of a pickup (and, after a redeem, the handed-over order)."""
    order_no: str
    status: str = Field(json_schema_extra={"enum": STATUSES})
    total_fen: int = Field(ge=0)
    remark: str | None
    items: list[StaffItemOut]
    customer: PickupCustomerOut
    code: str
    pickup_deadline: str | None
    redeemable: bool
    redeemed_at: str | None
    redeemed_by: RedeemedByOut | None
    created_at: str | None
    pickup_at: str | None
    promised_ready_at: str | None


class AwaitingQuery(Paging):
    status: Literal[REDEEMABLE] | None = Field(None, description="paid or ready; both when absent")  # type: ignore[valid-type]


class AwaitingOut(Out):
    order_no: str
    status: str = Field(json_schema_extra={"enum": list(REDEEMABLE)})
    total_fen: int = Field(ge=0)
    remark: str | None
    items: list[StaffItemOut]
    paid_at: str | None
    pickup_deadline: str | None
    pickup_at: str | None
    promised_ready_at: str | None


class AwaitingPage(Page):
    items: list[AwaitingOut]


class RedemptionsQuery(Paging):
    """Newest first; a manager sees every seat of the store, a clerk their own attempts."""


class RedemptionOut(Out):
    id: int
    at: str | None
    action: str = Field(json_schema_extra={"enum": ["lookup", "redeem"]})
    via: str = Field(json_schema_extra={"enum": ["code", "qr"]})
    outcome: str = Field(description="ok, redeemed, or the error code the attempt was answered with")
    order_no: str | None
    staff: SeatOut


class RedemptionPage(Page):
    items: list[RedemptionOut]
