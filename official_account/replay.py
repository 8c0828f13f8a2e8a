"""One `(timestamp, nonce)` carries one message (issue 11 finding 1).

The callback's `signature` covers token, timestamp and nonce, never the body, so a query string read from a log could
be sent again within the timestamp window with any body and any FromUserName. The first use of a `(timestamp, nonce)`
records a digest of its whole query string and body; a later request with the same pair is admitted only with the
same digest. That is exactly what WeChat's own retries are (the same message sent again, up to three times, with the
same query and body), and the MsgId de-duplication in official_account/dedup.py answers those with the first reply.

Records live in Redis (SET NX EX) for as long as a timestamp is accepted; without Redis (development), or while
Redis fails, in this process's memory with the same semantics. `admit_and_claim` makes this check and the MsgId
claim of official_account/dedup.py in one Redis round trip (a script), the claim only for an admitted request.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from weakref import WeakKeyDictionary

from flask import Flask, current_app
from redis import RedisError

from app.extensions import redis_client
from official_account import dedup
from official_account.security import REPLAY_WINDOW_S

log = logging.getLogger(__name__)
# A timestamp is accepted from REPLAY_WINDOW_S before it until REPLAY_WINDOW_S after it: remember it that long.
TTL_S = 2 * REPLAY_WINDOW_S + 60
PREFIX = "micromall:oa:query:"
_LOCAL_LIMIT = 100_000  # the in-process cache is bounded: past this, expired records are dropped first


def fingerprint(query_string: bytes, body: bytes) -> str:
    return hashlib.sha256(len(query_string).to_bytes(8, "big") + query_string + body).hexdigest()


class LocalQueries:
    """The in-process stand-in for Redis: one dict of key -> (expiry, digest)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str]] = {}

    def remember(self, key: str, digest: str) -> str:
        """The digest first recorded under `key` (this one if it is the first)."""
        now = time.monotonic()
        with self._lock:
            if len(self._items) > _LOCAL_LIMIT:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
            held = self._items.get(key)
            if held is not None and held[0] > now:
                return held[1]
            self._items[key] = (now + TTL_S, digest)
            return digest


def init_app(app: Flask) -> None:
    app.extensions["micromall_oa_queries"] = LocalQueries()


def _first_digest(key: str, digest: str) -> str:
    redis = redis_client()
    if redis is not None:
        try:
            if redis.set(PREFIX + key, digest, nx=True, ex=TTL_S):
                return digest
            held = redis.get(PREFIX + key)
            if held is not None:
                return held.decode()
            # expired between the two calls: claim it again
            redis.set(PREFIX + key, digest, nx=True, ex=TTL_S)
            return digest
        except RedisError:
            log.warning("replay cache unavailable in Redis; using this process's memory", exc_info=True)
    return current_app.extensions["micromall_oa_queries"].remember(key, digest)


def _pair_key(timestamp: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}\n{nonce}".encode()).hexdigest()


def admit(timestamp: str, nonce: str, query_string: bytes, body: bytes) -> bool:
    """True for the first use of (timestamp, nonce) and for exact repeats of it; False for anything else."""
    digest = fingerprint(query_string, body)
    return hmac.compare_digest(_first_digest(_pair_key(timestamp, nonce), digest), digest)


# KEYS: the pair's record, the message's claim; ARGV: digest, record TTL, dedup.PENDING, claim TTL. {0}: refused
# (another digest holds the pair; nothing claimed); {1}: admitted, first arrival; {2, reply}: admitted, a retry.
# The digest is compared in Redis: it is no secret (a hash of what the sender sent), only which one came first.
_ADMIT_AND_CLAIM = """
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
elseif held ~= ARGV[1] then
  return {0}
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then
  return {1}
end
return {2, redis.call('GET', KEYS[2]) or ARGV[3]}
"""


_SCRIPTS: WeakKeyDictionary = WeakKeyDictionary()


def _admit_and_claim_script(redis):
    """The script bound to this client, made once per client: register_script encodes and hashes it each time."""
    script = _SCRIPTS.get(redis)
    if script is None:
        script = _SCRIPTS.setdefault(redis, redis.register_script(_ADMIT_AND_CLAIM))
    return script


def admit_and_claim(timestamp: str, nonce: str, query_string: bytes, body: bytes,
                    claim_key: str) -> tuple[bool, bool, str | None]:
    """admit(), then for an admitted request dedup.claim(claim_key): (admitted, first, earlier reply), with Redis
    in one round trip. Not admitted: (False, False, None), nothing claimed. Redis failing: both as they fall back
    alone (the record in this process's memory; the message handled as a first arrival)."""
    redis = redis_client()
    if redis is None:
        if not admit(timestamp, nonce, query_string, body):
            return False, False, None
        return (True, *dedup.claim(claim_key))
    digest, key = fingerprint(query_string, body), _pair_key(timestamp, nonce)
    try:
        answer = _admit_and_claim_script(redis)(
            keys=[PREFIX + key, dedup.PREFIX + claim_key], args=[digest, TTL_S, dedup.PENDING, dedup.TTL_S])
    except RedisError:
        log.warning("replay cache and dedup unavailable in Redis; this process's memory records the query, the "
                    "message %s is handled without dedup", claim_key, exc_info=True)
        admitted = hmac.compare_digest(current_app.extensions["micromall_oa_queries"].remember(key, digest), digest)
        return admitted, admitted, None
    if answer[0] == 0:
        return False, False, None
    if answer[0] == 1:
        return True, True, None
    return (True, *dedup.earlier(answer[1]))
