"""Who a bearer token is, from Redis for TTL_S, instead of the database on every authenticated request.

An entry maps a token's SHA-256 to (owner id, session expiry): the customer of a CustomerSession or the seat of a
StaffSession. Only that pair is cached, never the owner's row: a customer is attached to the request's session by
id without a SELECT (its columns load when a view reads one, fresh), and a staff seat is still read on every
request, so disabling a seat locks it out at once as before.

Revocation is immediate. Every path that deletes a session row writes a tombstone for its token first (`revoke`),
and entries are only ever written with SET NX: a request that read the row just before a logout committed cannot
put the token back after the tombstone, and a tombstoned token is looked up in the database again (which by then
says it is gone). When the tombstone cannot be written (Redis down), the logout fails with 503 and nothing is
revoked: a token that says it was logged out always is. Without Redis (development) there is no cache at all.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Iterable

from redis.exceptions import RedisError

from app.extensions import redis_client

log = logging.getLogger(__name__)
TTL_S = 30  # bounds what only the database would know (a row deleted by hand); revocations do not wait for it
PREFIX = "micromall:auth:"
REVOKED = b"revoked"


def _key(kind: str, token_hash: str) -> str:
    return f"{PREFIX}{kind}:{token_hash}"


def lookup(kind: str, token_hash: str) -> int | None:
    """The owner id while the cached session has not expired; None: ask the database."""
    redis = redis_client()
    if redis is None:
        return None
    try:
        raw = redis.get(_key(kind, token_hash))
    except RedisError:
        return None  # degraded: the database answers
    if raw is None or raw == REVOKED:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)  # redis-py's stubs type the reply loosely
    owner, _, expires = text.partition(":")
    if float(expires) <= time.time():
        return None
    return int(owner)


def remember(kind: str, token_hash: str, owner_id: int, expires_at: datetime) -> None:
    redis = redis_client()
    if redis is None:
        return
    expires = expires_at.replace(tzinfo=expires_at.tzinfo or timezone.utc).timestamp()
    ttl = min(TTL_S, int(expires - time.time()))
    if ttl <= 0:
        return
    try:
        redis.set(_key(kind, token_hash), f"{owner_id}:{expires}", nx=True, ex=ttl)
    except RedisError:
        pass  # not cached: the next request asks the database again


def revoke(kind: str, token_hashes: Iterable[str]) -> None:
    """Tombstones for these tokens, before their rows are deleted. Raises RedisError when Redis cannot be told
    (the request then answers 503 and its transaction, the deletion, is rolled back)."""
    redis = redis_client()
    hashes = list(token_hashes)
    if redis is None or not hashes:
        return
    with redis.pipeline(transaction=False) as pipe:
        for token_hash in hashes:
            pipe.set(_key(kind, token_hash), REVOKED, ex=TTL_S * 2)
        pipe.execute()
