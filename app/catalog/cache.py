"""A read-through cache of catalog pages (products and SKUs as a store sells them), and with Redis of their stock.

What is cached changes rarely (titles, specs, prices, which
store carries what), and every change bumps a catalog version: any ORM write to a Store, Category, Product, Sku or
a StoreStock row being added or removed, seen at flush and applied after the commit. A page is served only when it
was built at the current version, so an edit shows on the next request. Pages also expire after PAGE_TTL_S.

With Redis the version and the pages are shared by every process (one MGET per read); without it (development)
the pages live in this process and the version is this process's counter together with a stamp file in the
instance folder, which any process's bump rewrites: a `micromall catalog import` or `stock set` shows at once in
a running `micromall serve` (one stat per read).

Stock changes with every sale, so it has a version of its own (Redis only; without Redis it is read from the
database for every page). Every write to store_stock through a session bumps it after the commit: the conditional
UPDATEs of app/catalog/stock.py (seen in `do_orm_execute`), ORM changes to StoreStock rows (seen at flush) and SQL
text that writes the table. A page's answer (`cached_answer`: the page with its stock, rendered) is stored tagged
with the catalog and stock versions read *before* its stock was read from the database, and served only while both
are current: a sale committed meanwhile bumps the stock version after its commit, so an answer read before the sale
can never be served after it (the warm product list then sends no SQL at all, and decodes no JSON: one MGET of the
two versions and the answer's bytes). Writes that bypass the session (raw SQL from outside) show within
STOCK_TTL_S.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from typing import Any, Callable

from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

from flask import current_app, has_app_context

from app.extensions import redis_client

log = logging.getLogger(__name__)
PAGE_TTL_S = 60
STOCK_TTL_S = 30
VERSION_KEY = "micromall:catalog:version"
STOCK_VERSION_KEY = "micromall:catalog:stock-version"
_BUMP_KEY = "micromall_catalog_changed"
_STOCK_BUMP_KEY = "micromall_stock_changed"
_STOCK_TEXT = re.compile(r"^\s*(update|insert|delete|replace)\b.*\bstore_stock\b", re.IGNORECASE | re.DOTALL)
_local_lock = threading.Lock()
_local: dict[str, Any] = {"version": 0, "pages": {}}
STAMP_FILE = "catalog-version"


def _stamp_path() -> str | None:
    return os.path.join(current_app.instance_path, STAMP_FILE) if has_app_context() else None


def _shared_stamp() -> tuple[int, int]:
    """What another process's bump changed: the stamp file's inode and modification time (0 without one)."""
    path = _stamp_path()
    try:
        stat = os.stat(path) if path else None
    except OSError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns) if stat else (0, 0)


def _touch_shared_stamp() -> None:
    path = _stamp_path()
    if path is None:
        return
    try:
        # A new file renamed into place: a new inode, so even two bumps within one clock tick differ.
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(str(time.time_ns()))
        os.replace(temporary, path)
    except OSError:  # a read-only instance folder: other processes see the change when pages expire
        pass


def _local_version() -> tuple[int, tuple[int, int]]:
    return (_local["version"], _shared_stamp())


def _watched():
    from app.models import Category, Product, Sku, Store, StoreHours

    return (Category, Product, Sku, Store, StoreHours)


def current_version() -> int:
    redis = redis_client()
    if redis is None:
        return hash(_local_version())
    return int(redis.get(VERSION_KEY) or 0)


def bump_version() -> None:
    redis = redis_client()
    if redis is None:
        with _local_lock:
            _local["version"] += 1
            _local["pages"].clear()
        _touch_shared_stamp()
    else:
        redis.incr(VERSION_KEY)


def cached_page(key: str, build: Callable[[], Any]) -> Any:
    """The page at `key` built at the current catalog version, building (and storing) it when needed."""
    redis = redis_client()
    page_key = f"micromall:catalog:page:{key}"
    if redis is None:
        version = _local_version()
        with _local_lock:
            hit = _local["pages"].get(page_key)
        if hit and hit[0] == version and hit[1] > time.monotonic():
            return hit[2]
        value = build()
        with _local_lock:
            _local["pages"][page_key] = (version, time.monotonic() + PAGE_TTL_S, value)
        return value
    try:
        version_raw, page_raw = redis.mget(VERSION_KEY, page_key)
    except RedisError as exc:
        # Degraded, not down: without Redis the page is built from the database for every request.
        log.warning("catalog cache unavailable (%s): page built from the database", type(exc).__name__)
        return build()
    shared_version = int(version_raw or 0)
    if page_raw:
        stored = json.loads(page_raw)
        if stored["version"] == shared_version:
            return stored["value"]
    value = build()
    try:
        redis.set(page_key, json.dumps({"version": shared_version, "value": value}, ensure_ascii=False), ex=PAGE_TTL_S)
    except RedisError as exc:
        log.warning("catalog cache unavailable (%s): page not stored", type(exc).__name__)
    return value


def cached_answer(key: str, build: Callable[[], Any], read_stock: Callable[[Any], dict[int, int]],
                  render: Callable[[Any, dict[int, int]], bytes]) -> bytes:
    """The answer `render(page, stock by SKU id)` for `key`, as bytes. With Redis, from one MGET (the two versions
    and the rendered answer) when it was rendered at both current versions: no JSON decoded or encoded again. When
    it was not, the page comes from its own cache entry (or is built) and the stock from the database
    (`read_stock(page)`), and the answer is stored tagged with the versions read *before* that stock was read, so
    a sale committed meanwhile (which bumps the stock version after its commit) makes it stale at once. Without
    Redis (or when it fails), the page as `cached_page` gives it and the stock from the database every time."""
    redis = redis_client()
    if redis is None:
        page = cached_page(key, build)
        return render(page, read_stock(page))
    answer_key = f"micromall:catalog:answer:{key}"
    try:
        version_raw, stock_version_raw, answer_raw = redis.mget(VERSION_KEY, STOCK_VERSION_KEY, answer_key)
    except RedisError as exc:
        log.warning("catalog cache unavailable (%s): page built from the database", type(exc).__name__)
        page = build()
        return render(page, read_stock(page))
    version = int(version_raw or 0)
    tag = f"{version}:{int(stock_version_raw or 0)}\n".encode()
    if isinstance(answer_raw, bytes) and answer_raw.startswith(tag):
        return answer_raw[len(tag):]
    page_key = f"micromall:catalog:page:{key}"
    writes: dict[str, tuple[str | bytes, int]] = {}
    try:
        page_raw = redis.get(page_key)
    except RedisError:
        page_raw = None
    page = None
    if page_raw:
        stored = json.loads(page_raw)
        if stored["version"] == version:
            page = stored["value"]
    if page is None:
        page = build()
        writes[page_key] = (json.dumps({"version": version, "value": page}, ensure_ascii=False), PAGE_TTL_S)
    answer = render(page, read_stock(page))
    writes[answer_key] = (tag + answer, STOCK_TTL_S)
    try:
        with redis.pipeline(transaction=False) as pipe:
            for name, (value, ttl) in writes.items():
                pipe.set(name, value, ex=ttl)
            pipe.execute()
    except RedisError as exc:
        log.warning("catalog cache unavailable (%s): page not stored", type(exc).__name__)
    return answer


def bump_stock_version() -> None:
    redis = redis_client()
    if redis is not None:
        redis.incr(STOCK_VERSION_KEY)


@event.listens_for(Session, "do_orm_execute")
def _note_stock_writes(state: ORMExecuteState) -> None:
    from app.models import StoreStock

    statement = state.statement
    if isinstance(statement, TextClause):
        writes = _STOCK_TEXT.match(statement.text) is not None
    else:
        table = getattr(statement, "table", None)  # an ORM statement's table is an annotated copy: compare names
        writes = (state.is_update or state.is_delete or state.is_insert) and (
            getattr(table, "name", None) == StoreStock.__tablename__)
    if writes:
        state.session.info[_STOCK_BUMP_KEY] = True


@event.listens_for(Session, "after_flush")
def _note_catalog_changes(session: Session, flush_context) -> None:
    from app.models import StoreStock

    watched = _watched()
    changed = any(isinstance(obj, watched) for obj in (*session.new, *session.dirty, *session.deleted)) or any(
        isinstance(obj, StoreStock) for obj in (*session.new, *session.deleted))
    if changed:
        session.info[_BUMP_KEY] = True
    if any(isinstance(obj, StoreStock) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_STOCK_BUMP_KEY] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_BUMP_KEY, False):
        try:
            bump_version()
        except Exception:  # Redis away: pages still expire after PAGE_TTL_S
            pass
    if session.info.pop(_STOCK_BUMP_KEY, False):
        try:
            bump_stock_version()
        except Exception:  # Redis away: stock entries still expire after STOCK_TTL_S
            log.warning("stock version not bumped (Redis unavailable): lists may show old stock for %s s",
                        STOCK_TTL_S)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_BUMP_KEY, None)
        session.info.pop(_STOCK_BUMP_KEY, None)
