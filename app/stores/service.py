"""Finding stores: nearest first within a radius, or all of them; each with whether it is open now."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Store
from app.stores.hours import format_minute, is_open, local_now

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0


@dataclass
class StoreView:
    store: Store
    open_now: bool
    distance_m: int | None = None


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine): within a city it is off by well under a metre per kilometre."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _views(stores: list[Store], now: datetime | None) -> list[StoreView]:
    local = local_now(current_app.config["STORE_TIMEZONE"], now)
    return [StoreView(s, is_open(s.hours, local)) for s in stores]


def nearest_stores(lat: float, lng: float, radius_km: float, offset: int, limit: int,
                   now: datetime | None = None, open_only: bool = False) -> tuple[list[StoreView], int]:
    """Active stores within radius_km of (lat, lng), nearest first, and how many there are in all.

    The indexed bounding box keeps the exact distance to the few stores near the point; the box is a little wider
    than the circle, and the circle decides.
    """
    dlat = radius_km * 1000 / METRES_PER_DEGREE_LAT
    dlng = radius_km * 1000 / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    candidates = db.session.scalars(
        select(Store).options(selectinload(Store.hours)).where(
            Store.active.is_(True),
            Store.latitude.between(lat - dlat, lat + dlat),
            Store.longitude.between(lng - dlng, lng + dlng),
        )
    ).all()
    views = []
    for view in _views(list(candidates), now):
        d = distance_m(lat, lng, view.store.latitude, view.store.longitude)
        if d <= radius_km * 1000 and (view.open_now or not open_only):
            view.distance_m = round(d)
            views.append(view)
    views.sort(key=lambda v: (v.distance_m, v.store.id))
    return views[offset:offset + limit], len(views)


def all_stores(offset: int, limit: int, now: datetime | None = None) -> tuple[list[StoreView], int]:
    total = db.session.scalar(select(func.count()).select_from(Store).where(Store.active.is_(True)))
    stores = db.session.scalars(
        select(Store).options(selectinload(Store.hours)).where(Store.active.is_(True))
        .order_by(Store.id).offset(offset).limit(limit)
    ).all()
    return _views(list(stores), now), total or 0


def get_store(store_id: int, now: datetime | None = None) -> StoreView:
    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(f"Store {store_id} does not exist.")
    return _views([store], now)[0]


@dataclass
class Hours:
    weekday: int
    open_min: int
    close_min: int


@dataclass(frozen=True)
class StoreCard:
    """What the official account's answers show of a store, from the catalog cache instead of the database."""
    id: int
    name: str
    address: str
    phone: str | None
    latitude: float
    longitude: float
    hours: tuple[Hours, ...]


@dataclass
class CardView:
    store: StoreCard
    open_now: bool
    distance_m: int | None = None


def _active_cards() -> list[StoreCard]:
    """Every active store with its hours, from the catalog cache (app/catalog/cache.py: Store and StoreHours
    changes bump its version, so an edit or a closed store shows on the next message)."""
    from app.catalog.cache import cached_page

    def build() -> list[dict]:
        stores = db.session.scalars(select(Store).options(selectinload(Store.hours))
                                    .where(Store.active.is_(True)).order_by(Store.id)).all()
        return [{"id": s.id, "name": s.name, "address": s.address, "phone": s.phone, "latitude": s.latitude,
                 "longitude": s.longitude, "hours": [[h.weekday, h.open_min, h.close_min] for h in s.hours]}
                for s in stores]

    return [StoreCard(c["id"], c["name"], c["address"], c["phone"], c["latitude"], c["longitude"],
                      tuple(Hours(*h) for h in c["hours"])) for c in cached_page("stores:active", build)]


def nearest_open_cards(lat: float, lng: float, radius_km: float, limit: int,
                       now: datetime | None = None) -> list[CardView]:
    """nearest_stores(..., open_only=True) for the official account, without SQL when the cache is warm: the
    distance to every active store is computed here (a chain has tens or hundreds, not millions)."""
    local = local_now(current_app.config["STORE_TIMEZONE"], now)
    views = []
    for card in _active_cards():
        d = distance_m(lat, lng, card.latitude, card.longitude)
        if d <= radius_km * 1000 and is_open(card.hours, local):
            views.append(CardView(card, True, round(d)))
    views.sort(key=lambda v: (v.distance_m, v.store.id))
    return views[:limit]


def opening_hours(store: Store) -> list[dict]:
    return [{"weekday": h.weekday, "open": format_minute(h.open_min), "close": format_minute(h.close_min)}
            for h in store.hours]
