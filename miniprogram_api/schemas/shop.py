"""Stores, the category tree and products: what anyone may read."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from miniprogram_api.schemas.common import Id, Out, Page, Paging, Query, text
from miniprogram_api.schemas.ratings import ServiceOut

MAX_RADIUS_KM = 50.0


class StoresQuery(Paging):
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, description="with lng: nearest first")
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    radius_km: float = Field(10.0, ge=0.1, le=MAX_RADIUS_KM, allow_inf_nan=False)


class StoreOut(Out):
    id: int
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    phone: str | None
    open_now: bool
    distance_m: int | float | None = Field(None, description="only when lat and lng were given")


class StorePage(Page):
    items: list[StoreOut]


class StoreDetailOut(StoreOut):
    opening_hours: Any = Field(description="the weekly opening hours")
    service: ServiceOut = Field(description="30-day rating, on-time rate and preparation time now (issue 18)")


class CategoryOut(Out):
    id: int
    name: str
    parent_id: int | None
    children: list[CategoryOut]


class CategoryTree(Out):
    items: list[CategoryOut]


class ProductsQuery(Paging):
    category_id: Id | None = Field(None, description="this category and every one below it")
    q: text(50) | None = Field(None, description="words of the title")  # type: ignore[valid-type]


class ProductQuery(Query):
    store_id: Id | None = Field(None, description="give the SKUs sold there with their stock")


class SkuOut(Out):
    id: int
    spec: str | None
    price_fen: int = Field(ge=0)
    stock: int | None = Field(description="at the store asked about; null when none was named")


class ProductOut(Out):
    id: int
    title: str
    category_id: int | None
    description: str | None = None
    image_url: str | None = None
    skus: list[SkuOut]


class ProductPage(Page):
    items: list[ProductOut]
