"""The server-side cart at one store."""
from __future__ import annotations

from pydantic import Field

from miniprogram_api.schemas.common import Body, Id, Out, Query


class CartQuery(Query):
    store_id: Id


class CartItemBody(Body):
    store_id: Id
    sku_id: Id
    quantity: int = Field(ge=1, le=99, description="the line's new quantity")


class CartLineOut(Out):
    sku_id: int
    product_id: int
    title: str
    spec: str | None
    price_fen: int = Field(ge=0)
    quantity: int = Field(ge=1)
    stock: int | None = Field(description="the store's stock of the SKU now")
    available: bool = Field(description="false: no longer sold or not enough stock; left out of total_fen")


class CartOut(Out):
    store_id: int
    items: list[CartLineOut]
    total_fen: int = Field(ge=0)
