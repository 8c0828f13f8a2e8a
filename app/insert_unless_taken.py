"""One INSERT that a taken unique key turns into a no-op instead of an error, so the caller's transaction goes on
without a SAVEPOINT around it (a SAVEPOINT, the INSERT and its RELEASE were three round trips).

On MariaDB `ON DUPLICATE KEY UPDATE` of the primary key to itself (no row changes; a duplicate gives no insert id),
on SQLite `ON CONFLICT DO NOTHING` (any unique key); on both, any other error (a foreign key, NOT NULL) still
raises. Elsewhere the SAVEPOINT, where any integrity error counts as taken.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def insert_unless_taken(session: Session, table: Table, values: dict[str, Any]) -> int | None:
    """INSERT `values` into `table` (its primary key an autoincrement `id`); the new row's id, or None when a
    unique key of the row is taken (nothing inserted)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        result = session.execute(mysql_insert(table).values(**values).on_duplicate_key_update(id=table.c.id))
        return result.lastrowid or None  # type: ignore[attr-defined]
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        result = session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
        return result.lastrowid if result.rowcount == 1 else None  # type: ignore[attr-defined]
    try:
        with session.begin_nested():
            return session.execute(insert(table).values(**values)).inserted_primary_key[0]  # type: ignore[attr-defined]
    except IntegrityError:
        return None
