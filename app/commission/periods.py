"""Periods of the stats, leaderboards and statements, as [start, end) in UTC, cut at midnight in STORE_TIMEZONE
(a shop's day and month are local)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

from app.errors import invalid_field
from app.models import utcnow

PERIODS = ("day", "week", "month")
MAX_SPAN = timedelta(days=366)
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    def json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["STORE_TIMEZONE"])


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone()).astimezone(timezone.utc)


def month(text: str) -> Period:
    """"2026-11" -> that month, local."""
    match = _MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 9000:
        raise invalid_field("month", "must be YYYY-MM")
    year, number = int(match.group(1)), int(match.group(2))
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(_local_midnight(date(year, number, 1)), _local_midnight(following))


def named(name: str | None, now: datetime | None = None) -> Period:
    """The current day, week (from Monday) or month (default), local."""
    today = (now or utcnow()).astimezone(_zone()).date()
    name = name or "month"
    if name == "day":
        return Period(_local_midnight(today), _local_midnight(today + timedelta(days=1)))
    if name == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(_local_midnight(monday), _local_midnight(monday + timedelta(days=7)))
    if name == "month":
        return month(f"{today.year:04d}-{today.month:02d}")
    if _MONTH.match(name):
        return month(name)
    raise invalid_field("period", f"must be one of {', '.join(PERIODS)} or YYYY-MM")


def _bound(name: str, raw: str, end: bool) -> datetime:
    """A date (YYYY-MM-DD, local; `to` includes its whole day) or an ISO 8601 time with offset."""
    if not raw.isascii() or len(raw) > 40:
        raise invalid_field(name, "must be YYYY-MM-DD or an ISO 8601 time with offset")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return _local_midnight(day + timedelta(days=1) if end else day)
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise invalid_field(name, "needs an offset, e.g. 2026-11-01T00:00:00+08:00")
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # not a date, or one at the very edge of the calendar
        raise invalid_field(name, "must be YYYY-MM-DD or an ISO 8601 time with offset") from None


def between(raw_from: str | None, raw_to: str | None) -> Period:
    """?from=&to= of the stats; either missing: the current month's bound."""
    default = named("month")
    start = _bound("from", raw_from, False) if raw_from else default.start
    end = _bound("to", raw_to, True) if raw_to else default.end
    if end <= start:
        raise invalid_field("to", "must be after from")
    if end - start > MAX_SPAN:
        raise invalid_field("to", "the period may span at most 366 days")
    return Period(start, end)
