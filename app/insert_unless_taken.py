"""One INSERT that a taken unique key turns into a no-op instead of an error, so the caller's transaction goes on
without a SAVEPOINT around it (a SAVEPOINT, the INSERT and its RELEASE were three round trips).

On MariaDB `ON DUPLICATE KEY UPDATE` of a column to itself (no row changes; a duplicate gives no insert id; the
duplicate key is waited on with an exclusive lock, so two waiting duplicates cannot deadlock each other), on SQLite
`ON CONFLICT DO NOTHING` (on `key`'s conflict, or any unique key's); on both, any other error (a foreign key, NOT
NULL) still raises. Elsewhere the SAVEPOINT, where any integrity error counts as taken.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def insert_unless_taken(session: Session, table: Table, values: dict[str, Any], key: str | None = None) -> int | None:
    """INSERT `values` into `table` (its primary key an autoincrement `id`); the new row's id, or None when a
    unique key of the row is taken (nothing inserted). `key`: the one unique column whose duplicate is expected
    (SQLite then lets a duplicate of any other unique key raise)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        itself = table.c[key or "id"]
        result = session.execute(mysql_insert(table).values(**values).on_duplicate_key_update({itself.name: itself}))
        return result.lastrowid or None  # type: ignore[attr-defined]
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        result = session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing(
            index_elements=[table.c[key]] if key else None))
        return result.lastrowid if result.rowcount == 1 else None  # type: ignore[attr-defined]
    try:
        with session.begin_nested():
            return session.execute(insert(table).values(**values)).inserted_primary_key[0]  # type: ignore[attr-defined]
    except IntegrityError:
        return None
