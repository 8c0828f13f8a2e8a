"""A store's promise terms: preparation minutes by time of day, the grace before an order counts as late, and the
coupon a late order earns. Also when a customer may ask to pick up, and when a paid order is promised ready."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from flask import current_app

from app.errors import invalid_field
from app.extensions import db
from app.models import Order, Store, StorePromise, utcnow
from app.stores.hours import Interval, is_open, local_now, parse_interval

DEFAULT_PREP_MINUTES, DEFAULT_GRACE_MINUTES, DEFAULT_COMPENSATION_FEN = 10, 5, 300
# A chosen pickup time is at most this far ahead: further out, the order would sit paid past the pickup window.
MAX_PICKUP_AHEAD = timedelta(hours=24)
# A pickup time a little in the past is the customer's clock or the network, not a wish for the past.
PICKUP_CLOCK_SLACK = timedelta(minutes=1)
_WINDOW = re.compile(r"^(\d{2}:\d{2}-\d{2}:\d{2})=(\d{1,3})$")


@dataclass(frozen=True)
class Terms:
    prep_minutes: int
    busy_windows: tuple[tuple[int, int, int], ...]  # (from minute, to minute, preparation minutes), local time
    grace_minutes: int
    compensation_fen: int

    def prep_at(self, at_local: datetime) -> int:
        minute = at_local.hour * 60 + at_local.minute
        for start, end, minutes in self.busy_windows:
            inside = start <= minute < end if start < end else (minute >= start or minute < end)
            if inside:
                return minutes
        return self.prep_minutes


def parse_busy_windows(text: str) -> tuple[tuple[int, int, int], ...]:
    """"11:30-13:30=20,17:30-19:00=15" -> ((690, 810, 20), (1050, 1140, 15)); raises ValueError."""
    windows = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = _WINDOW.match(part)
        if not match:
            raise ValueError(f"{part!r} is not HH:MM-HH:MM=MINUTES")
        start, end = parse_interval(match.group(1))
        minutes = int(match.group(2))
        if not 1 <= minutes <= 240:
            raise ValueError(f"{part!r}: preparation minutes must be 1-240")
        windows.append((start, end % 1440 if end == 1440 else end, minutes))
    return tuple(windows)


def terms_of(store_id: int) -> Terms:
    return terms_from(db.session.get(StorePromise, store_id))


def terms_from(row: StorePromise | None) -> Terms:
    """The terms a store's row holds (read by the caller, e.g. joined to the order being paid); None: defaults."""
    if row is None:
        return Terms(DEFAULT_PREP_MINUTES, (), DEFAULT_GRACE_MINUTES, DEFAULT_COMPENSATION_FEN)
    return Terms(row.prep_minutes, parse_busy_windows(row.busy_windows), row.grace_minutes, row.compensation_fen)


def set_terms(store_id: int, prep_minutes: int | None = None, busy_windows: str | None = None,
              grace_minutes: int | None = None, compensation_fen: int | None = None) -> StorePromise:
    """Change a store's terms (None: keep); raises ValueError for a bad value. The caller commits."""
    if db.session.get(Store, store_id) is None:
        raise ValueError(f"store {store_id} does not exist")
    if busy_windows is not None:
        parse_busy_windows(busy_windows)
    if prep_minutes is not None and not 1 <= prep_minutes <= 240:
        raise ValueError("preparation minutes must be 1-240")
    if grace_minutes is not None and not 0 <= grace_minutes <= 120:
        raise ValueError("grace minutes must be 0-120")
    if compensation_fen is not None and compensation_fen < 0:
        raise ValueError("compensation must be 0 fen or more")
    row = db.session.get(StorePromise, store_id)
    if row is None:
        row = StorePromise(store_id=store_id, prep_minutes=DEFAULT_PREP_MINUTES, busy_windows="",
                           grace_minutes=DEFAULT_GRACE_MINUTES, compensation_fen=DEFAULT_COMPENSATION_FEN)
        db.session.add(row)
    for name, value in (("prep_minutes", prep_minutes), ("busy_windows", busy_windows),
                        ("grace_minutes", grace_minutes), ("compensation_fen", compensation_fen)):
        if value is not None:
            setattr(row, name, value)
    db.session.flush()
    return row


def prep_minutes_now(store_id: int, now: datetime | None = None) -> int:
    return terms_of(store_id).prep_at(local_now(current_app.config["STORE_TIMEZONE"], now))


def check_pickup_at(hours: Iterable[Interval], pickup_at: datetime, now: datetime | None = None) -> datetime:
    """A pickup time the customer may choose: not in the past, within a day, and while the store is open (`hours`:
    its intervals, at least those of pickup_at's day and the day before). Raises 400 invalid_request naming
    `pickup_at`."""
    now = now or utcnow()
    if pickup_at < now - PICKUP_CLOCK_SLACK:
        raise invalid_field("pickup_at", "is in the past")
    if pickup_at > now + MAX_PICKUP_AHEAD:
        raise invalid_field("pickup_at", f"must be within {int(MAX_PICKUP_AHEAD.total_seconds() // 3600)} hours")
    if not is_open(hours, local_now(current_app.config["STORE_TIMEZONE"], pickup_at)):
        raise invalid_field("pickup_at", "is outside the store's opening hours")
    return max(pickup_at, now).astimezone(timezone.utc)  # kept and shown in UTC like every stored time


def promised_ready_at(order: Order, paid_at: datetime, terms: Terms | None = None) -> datetime:
    """When an order being paid is promised ready: the later of payment plus the preparation time at that hour
    and the pickup time the customer chose. `terms`: the store's, if the caller has read them already."""
    terms = terms or terms_of(order.store_id)
    ready_by = paid_at + timedelta(minutes=terms.prep_at(local_now(current_app.config["STORE_TIMEZONE"], paid_at)))
    if order.pickup_at is not None and order.pickup_at > ready_by:
        ready_by = order.pickup_at
    return ready_by
