"""A read-through cache of catalog pages (products and SKUs as a store sells them, without stock).

Stock is never cached: it is read live for every page. What is cached changes rarely (titles, specs, prices, which
store carries what), and every change bumps a catalog version: any ORM write to a Store, Category, Product, Sku or
a StoreStock row being added or removed, seen at flush and applied after the commit. A page is served only when it
was built at the current version, so an edit shows on the next request. Pages also expire after PAGE_TTL_S.

With Redis the version and the pages are shared by every process (one MGET per read); without it (development)
the pages live in this process and the version is this process's counter together with a stamp file in the
instance folder, which any process's bump rewrites: a `micromall catalog import` or `stock set` shows at once in
a running `micromall serve` (one stat per read).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Callable

from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from flask import current_app, has_app_context

from app.extensions import redis_client

log = logging.getLogger(__name__)
PAGE_TTL_S = 60
VERSION_KEY = "micromall:catalog:version"
_BUMP_KEY = "micromall_catalog_changed"
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


@event.listens_for(Session, "after_flush")
def _note_catalog_changes(session: Session, flush_context) -> None:
    from app.models import StoreStock

    watched = _watched()
    changed = any(isinstance(obj, watched) for obj in (*session.new, *session.dirty, *session.deleted)) or any(
        isinstance(obj, StoreStock) for obj in (*session.new, *session.deleted))
    if changed:
        session.info[_BUMP_KEY] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_BUMP_KEY, False):
        try:
            bump_version()
        except Exception:  # Redis away: pages still expire after PAGE_TTL_S
            pass


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_BUMP_KEY, None)
