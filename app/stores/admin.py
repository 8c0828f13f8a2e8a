"""What a shop owner does to stores from the command line: create one, with its opening hours."""
from __future__ import annotations

from app.extensions import db
from app.models import Store, StoreHours
from app.stores.hours import WEEKDAYS, parse_interval


def parse_hours(text: str) -> list[tuple[int, int, int]]:
    """"daily 09:00-21:00" or "mon-fri 08:00-22:00; sat,sun 10:00-23:00" -> [(weekday, open_min, close_min)]."""
    result = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, _, interval_text = part.partition(" ")
        open_min, close_min = parse_interval(interval_text)
        for day in _days(days_text.strip().lower()):
            result.append((day, open_min, close_min))
    if not result:
        raise ValueError("no opening hours given")
    return result


def _days(text: str) -> list[int]:
    if text == "daily":
        return list(range(7))
    days: list[int] = []
    for token in text.split(","):
        first, _, last = token.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"{token!r} is not a weekday (mon..sun, a range like mon-fri, or daily)")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if end < start:
            raise ValueError(f"{token!r} runs backwards")
        days.extend(range(start, end + 1))
    return days


def create_store(name: str, address: str, latitude: float, longitude: float, phone: str, hours: str) -> Store:
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError("latitude must be in -90..90 and longitude in -180..180")
    store = Store(name=name, address=address, latitude=latitude, longitude=longitude, phone=phone, active=True)
    store.hours = [StoreHours(weekday=d, open_min=o, close_min=c) for d, o, c in parse_hours(hours)]
    db.session.add(store)
    db.session.flush()
    return store


def store_snapshot(store: Store) -> dict:
    return {"name": store.name, "address": store.address, "latitude": store.latitude, "longitude": store.longitude,
            "phone": store.phone, "active": store.active,
            "hours": [(h.weekday, h.open_min, h.close_min) for h in store.hours]}


def update_store(store: Store, name: str, address: str, latitude: float, longitude: float, phone: str,
                 hours: str | None, active: bool) -> tuple[dict, dict]:
    """Edit a store (the console); (before, after) for the audit log. Raises ValueError on bad input. Flushes."""
    if not name.strip() or not address.strip():
        raise ValueError("name and address must not be empty")
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError("latitude must be in -90..90 and longitude in -180..180")
    new_hours = parse_hours(hours) if hours is not None and hours.strip() else None
    before = store_snapshot(store)
    store.name, store.address, store.phone, store.active = name.strip(), address.strip(), phone.strip(), active
    store.latitude, store.longitude = latitude, longitude
    if new_hours is not None:
        store.hours = [StoreHours(weekday=d, open_min=o, close_min=c) for d, o, c in new_hours]
    db.session.flush()
    return before, store_snapshot(store)
