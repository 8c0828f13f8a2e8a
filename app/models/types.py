"""Column types shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator


# The largest value of an INTEGER column on MySQL/MariaDB (signed INT): ids, fen, quantities. A number past it is
# refused where it comes in (CLI, CSV, URL) instead of failing in the database.
MAX_INT = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python, naive UTC in the column.

    Neither MySQL's DATETIME nor SQLite keeps an offset, so the offset is fixed by convention here: values are
    converted to UTC on the way in and come back aware, and a naive value is refused rather than guessed at.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        # MySQL's DATETIME keeps whole seconds unless asked for more: keep microseconds everywhere, so a value reads
        # back as it was written (and events of one second keep their order).
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)
