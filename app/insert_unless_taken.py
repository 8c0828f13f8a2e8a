"""One INSERT that a taken unique key turns into a no-op instead of an error, so the caller's transaction goes on
without a SAVEPOINT around it (a SAVEPOINT, the INSERT and its RELEASE were three round trips).

On MariaDB `ON DUPLICATE KEY UPDATE` of a column to itself (no row changes; a duplicate gives no insert id; the
duplicate key is waited on with an exclusive lock, so two waiting duplicates cannot deadlock each other), on SQLite
`ON CONFLICT DO NOTHING` (on `key`'s conflict, or any unique key's); on both, any other error (a foreign key, NOT
NULL) still raises. Elsewhere the SAVEPOINT, where any integrity error counts as taken.

The statement is built once per dialect, table and key, and executed with the values as parameters:
built per call (`.values(**values)`), its construction and cache key cost more CPU than sending it
(bench/hot_paths.py: notify_first issues a pickup code and an outbox job through here).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_BUILT: dict[tuple[str, str, str | None], Executable] = {}


def insert_unless_taken(session: Session, table: Table, values: dict[str, Any], key: str | None = None) -> int | None:
    """INSERT `values` into `table` (its primary key an autoincrement `id`); the new row's id, or None when a
    unique key of the row is taken (nothing inserted). `key`: the one unique column whose duplicate is expected
    (SQLite then lets a duplicate of any other unique key raise)."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("mysql", "mariadb", "sqlite"):
        try:
            with session.begin_nested():
                return session.execute(insert(table), values).inserted_primary_key[0]  # type: ignore[attr-defined]
        except IntegrityError:
            return None
    result = session.execute(_statement(dialect, table, key), values)
    if dialect == "sqlite":
        return result.lastrowid if result.rowcount == 1 else None  # type: ignore[attr-defined]
    return result.lastrowid or None  # type: ignore[attr-defined]


def _statement(dialect: str, table: Table, key: str | None) -> Executable:
    """The INSERT into `table` that a taken unique key makes a no-op, on `dialect` (mysql/mariadb or sqlite); its
    columns are the parameters'."""
    built = _BUILT.get((dialect, table.name, key))
    if built is not None:
        return built
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        built = sqlite_insert(table).on_conflict_do_nothing(index_elements=[table.c[key]] if key else None)
    else:
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        itself = table.c[key or "id"]
        built = mysql_insert(table).on_duplicate_key_update({itself.name: itself})
    _BUILT[(dialect, table.name, key)] = built
    return built
