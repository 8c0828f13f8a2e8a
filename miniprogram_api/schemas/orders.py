"""The customer's orders: placing, listing, reading, cancelling, paying."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import OrderStatus
from app.orders.placement import MAX_LINES, MAX_QUANTITY
from miniprogram_api.schemas.common import Body, Id, Out, Page, Paging, text

# ISO 8601 with an offset, ASCII digits only ("2026-12-01T12:30:00+08:00" or "…Z").
PICKUP_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$"
STATUSES = tuple(s.value for s in OrderStatus)


class OrderHeaders(BaseModel):
    # Not a Query: an empty Idempotency-Key is a malformed key (400), not an absent one.
    model_config = ConfigDict(extra="ignore")

    idempotency_key: str | None = Field(None, alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                                        description="the same key from the same customer returns the first result")


class OrderLineBody(Body):
    sku_id: Id
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderBody(Body):
    store_id: Id
    items: list[OrderLineBody] = Field(min_length=1, max_length=MAX_LINES,
                                       description="a SKU named twice is one line with the quantities added")
    remark: text(200, min_length=0) | None = None  # type: ignore[valid-type]
    coupon_id: Id | None = None
    pickup_at: str | None = Field(None, pattern=PICKUP_AT, max_length=40,
                                  description="ISO 8601 with its offset, like 2026-12-01T12:30:00+08:00")


class OrdersQuery(Paging):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class OrderStoreOut(Out):
    id: int
    name: str


class OrderItemOut(Out):
    sku_id: int
    product_id: int | None
    title: str
    spec: str | None
    unit_price_fen: int = Field(ge=0)
    quantity: int = Field(ge=1)


class OrderOut(Out):
    order_no: str
    status: str = Field(json_schema_extra={"enum": list(STATUSES)})
    total_fen: int = Field(ge=0)
    discount_fen: int | None = None
    payable_fen: int | None = None
    remark: str | None
    store: OrderStoreOut
    items: list[OrderItemOut]
    created_at: str | None
    expires_at: str | None
    coupon_id: int | None = None
    pickup_at: str | None = None
    promised_ready_at: str | None = None
    late: bool | None = None


class OrderPage(Page):
    items: list[OrderOut]


class PaymentParamsOut(Out):
    """The fields of wx.requestPayment."""
    timeStamp: str
    nonceStr: str
    package: str
    signType: str
    paySign: str
