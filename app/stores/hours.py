"""Opening hours: parsing "09:00-21:00" and deciding whether a store is open at a moment in its local time."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class Interval(Protocol):
    weekday: int
    open_min: int
    close_min: int


def parse_interval(text: str) -> tuple[int, int]:
    """"09:00-21:00" -> (540, 1260); "00:00-24:00" is all day; "18:00-02:00" runs past midnight."""
    match = _INTERVAL.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    oh, om, ch, cm = (int(g) for g in match.groups())
    if oh > 23 or om > 59 or cm > 59 or ch > 24 or (ch == 24 and cm != 0):
        raise ValueError(f"{text!r} is not a valid time range")
    open_min, close_min = oh * 60 + om, ch * 60 + cm
    if close_min == 0:
        close_min = 1440  # "…-00:00" means until midnight
    if close_min == open_min:
        raise ValueError(f"{text!r} opens and closes at the same time")
    return open_min, close_min


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def is_open(hours: Iterable[Interval], at_local: datetime) -> bool:
    minute = at_local.hour * 60 + at_local.minute
    today = at_local.weekday()
    yesterday = (today - 1) % 7
    for interval in hours:
        overnight = interval.close_min <= interval.open_min
        if interval.weekday == today:
            if interval.open_min <= minute and (overnight or minute < interval.close_min):
                return True
        elif interval.weekday == yesterday and overnight and minute < interval.close_min:
            return True
    return False


def local_now(timezone_name: str, now: datetime | None = None) -> datetime:
    now = now or datetime.now(ZoneInfo("UTC"))
    return now.astimezone(ZoneInfo(timezone_name))
