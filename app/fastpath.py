"""Answers Redis gives before the database: markers saying that something is settled for good (a notification id
answered, a pickup code handed over), so that a repeat is answered without a transaction.

A marker is a shortcut, never the truth. It is written only after the commit that settles the thing (a marker
written before a commit that then failed would answer a repeat for something that never happened), and only for
facts that no later change undoes. Without it (not yet written, expired, evicted, Redis away) a request takes the
database path, which decides as before; so Redis failing here costs speed, never an answer.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db, redis_client

log = logging.getLogger(__name__)
_PREFIX = "micromall:settled:"
_PENDING = "micromall_settled_pending"


def redis_key(key: str) -> str:
    """The Redis key of the marker `key`, for a script that reads it (app/ratelimit.take_unless_settled)."""
    return _PREFIX + key


def recall(key: str) -> str | None:
    """The marker's value, or None when there is none (or Redis cannot say)."""
    redis = redis_client()
    if redis is None:
        return None
    try:
        value = redis.get(_PREFIX + key)
    except RedisError as exc:
        log.warning("settled markers unavailable (%s): the database answers", type(exc).__name__)
        return None
    return value.decode() if isinstance(value, bytes) else value


def recall_many(keys: list[str]) -> list[str | None]:
    """recall() of several keys in one round trip."""
    redis = redis_client()
    if redis is None or not keys:
        return [None] * len(keys)
    try:
        values = redis.mget([_PREFIX + key for key in keys])
    except RedisError as exc:
        log.warning("settled markers unavailable (%s): the database answers", type(exc).__name__)
        return [None] * len(keys)
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def forget_after_commit(key: str) -> None:
    """Delete a marker once the current transaction commits (the change that makes it untrue is visible then)."""
    redis = redis_client()
    if redis is not None:
        db.session().info.setdefault(_PENDING, []).append((redis, key, None, 0))


def remember(key: str, value: str, ttl_s: int) -> None:
    """Write a marker for a fact already committed (read back from the database)."""
    redis = redis_client()
    if redis is not None:
        _write(redis, [(key, value, ttl_s)])


def remember_after_commit(key: str, value: str, ttl_s: int) -> None:
    """Write a marker once the current transaction commits; nothing if it rolls back."""
    redis = redis_client()
    if redis is not None:
        db.session().info.setdefault(_PENDING, []).append((redis, key, value, ttl_s))


def _write(redis, markers: list[tuple[str, str | None, int]]) -> None:
    try:
        with redis.pipeline(transaction=False) as pipe:
            add_to_pipeline(pipe, markers)
            pipe.execute()
    except RedisError as exc:  # a repeat then asks the database, as without Redis; a marker left expires
        log.warning("settled markers not written (%s)", type(exc).__name__)


def add_to_pipeline(pipe, markers: list[tuple[str, str | None, int]]) -> None:
    """The writes of `markers` (key, value or None to delete, TTL) queued on a pipeline the caller executes."""
    for key, value, ttl_s in markers:
        if value is None:
            pipe.delete(_PREFIX + key)
        else:
            pipe.set(_PREFIX + key, value, ex=ttl_s)


def take_pending(session: Session) -> list[tuple[str, str | None, int]]:
    """The markers waiting for this commit, taken out of the session: for the caller to send in its own pipeline
    (app/jobs.py hands the commit's jobs to RQ in one, markers included: one round trip, not two or more)."""
    return [(key, value, ttl_s) for _, key, value, ttl_s in session.info.pop(_PENDING, None) or ()]


@event.listens_for(Session, "after_commit")
def _write_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT's release: nothing is committed yet
        return
    pending = session.info.pop(_PENDING, None)  # what app/jobs.py's pipeline has not taken
    if pending:
        _write(pending[0][0], [(key, value, ttl_s) for _, key, value, ttl_s in pending])


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
