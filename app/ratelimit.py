"""Limits on failed attempts (pickup-code guessing), counted in Redis so every web process shares them; without
Redis (development only) in this process.

Each limit is a sliding window: a sorted set of attempt times per key. A caller `take`s a slot in all its limits at
once *before* the attempt, atomically (one Lua script), so a burst of simultaneous attempts cannot slip past the
count; when the attempt turns out not to be a failure it `give_back`s the slot. A caller may name its slot (the
ticket) after what it tries: attempts at the same thing then share one slot, so twenty simultaneous scans of one
code hold one slot while in flight, not twenty (a repeat of one guess learns nothing new, so it need not count
twice). A store-wide limit next to the
per-seat one means that spreading the guesses over many seats of one store gains nothing.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from app import fastpath
from app.errors import RateLimited
from app.extensions import redis_client

_PREFIX = "micromall:rl:"
# One slot per limit for the attempt (ARGV: now, ticket, the number of limits, a claim's TTL in ms or 0, then limit
# and window per key), or the wait until one frees. For an attempt that may be settled already (take_unless_settled)
# the settled marker (app/fastpath.py) comes after the limits' keys, and after it, when the attempt may claim the
# thing (ARGV[4] > 0), the claim and its done list (fastpath.Claim): when the limits allow the attempt and the marker
# exists, no slot is taken and the marker comes back ('settled:' .. value), so that the caller answers from it
# without a give-back: one round trip where take, marker and give-back were three; when another copy holds the
# claim, no slot is taken either ('busy': the caller waits for that copy's marker, and takes its slot only if it
# goes to the database after all).
_TAKE = fastpath.SETTLED_OR_CLAIM_LUA + """
local now = tonumber(ARGV[1])
local limits = tonumber(ARGV[3])
local wait = 0
for i = 1, limits do
  local key, limit, window = KEYS[i], tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit and not redis.call('ZSCORE', key, ARGV[2]) then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return tostring(wait) end
if #KEYS > limits then
  local kind, _, settled = settled_or_claim(limits + 1, tonumber(ARGV[4]) > 0, ARGV[4])
  if kind == 'settled' then return 'settled:' .. settled end
  if kind == 'busy' then return kind end
end
for i = 1, limits do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[4 + 2 * i])))
end
return '0'
"""
_fallback_lock = threading.Lock()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_s: int


def pickup_limits(seat_id: int, store_id: int, client_addr: str | None = None) -> tuple[Limit, ...]:
    """10 failed pickup attempts per seat in 10 minutes, 100 per store in an hour, and 120 per client address in an
    hour: seats of several stores guessing from one place get little more than one store's allowance, while one
    store's counter (its phones behind one address) is never held below its own store limit."""
    limits = (Limit(f"pickup:seat:{seat_id}", 10, 600), Limit(f"pickup:store:{store_id}", 100, 3600))
    if client_addr:
        limits += (Limit(f"pickup:addr:{client_addr}", 120, 3600),)
    return limits


def order_limits(customer_id: int, per_minute: int) -> tuple[Limit, ...]:
    """Order placements per customer per minute: cancel-and-reorder cannot keep stock held (issue 11)."""
    return (Limit(f"orders:customer:{customer_id}", per_minute, 60),)


def take(limits: tuple[Limit, ...], what: str = "failed attempts", ticket: str | None = None) -> str:
    """Reserve one attempt in every limit; RateLimited (429, Retry-After) when any is full. Returns the ticket to
    give back if the attempt does not count as a failure. A `ticket` already holding a slot in a limit (the same
    attempt again, or still in flight) takes no second one there."""
    ticket, _ = _take(limits, what, ticket or uuid.uuid4().hex, None)
    return ticket


def take_unless_settled(limits: tuple[Limit, ...], ticket: str, marker_key: str,
                        what: str = "failed attempts", claim: fastpath.Claim | None = None) -> str | None:
    """take(), in the same round trip as a look at the Redis key `marker_key` (a settled marker, app/fastpath.py):
    RateLimited as take() when a limit is full; else the marker's value when it exists, with no slot taken (nothing
    to give back); else None, with the slot taken as take() does. With a `claim`, that look takes it too: None with
    the slot and the claim taken (`claim.held`), or None with neither when another copy holds it (`claim.busy`: the
    caller waits for that copy, and take()s its slot if it goes on). Without Redis: take() in this process, None."""
    return _take(limits, what, ticket, marker_key, claim)[1]


def _take(limits: tuple[Limit, ...], what: str, ticket: str, marker_key: str | None,
          claim: fastpath.Claim | None = None) -> tuple[str, str | None]:
    now = time.time()
    redis = redis_client()
    wait, settled = None, None
    if redis is not None:
        keys = [_PREFIX + l.key for l in limits] + ([marker_key] if marker_key is not None else [])
        claiming = claim if marker_key is not None else None
        if claiming is not None:
            keys += claiming.redis_keys()
        script = redis.register_script(_TAKE)
        args: list[object] = [f"{now:.6f}", ticket, len(limits), fastpath.CLAIM_TTL_MS if claiming is not None else 0]
        for limit in limits:
            args += [limit.limit, limit.window_s]
        try:
            answer = script(keys=keys, args=args)
        except RedisError as exc:
            # Degraded, not down: each process counts on its own until Redis is back (a guesser gains at most
            # the number of web processes times the limit meanwhile).
            log.warning("rate limits per process, Redis unavailable: %s", type(exc).__name__)
        else:
            answer = answer.decode() if isinstance(answer, bytes) else answer
            if answer.startswith("settled:"):
                wait, settled = 0.0, answer[len("settled:"):]
            elif answer == "busy" and claiming is not None:  # no slot taken: the caller waits for the claim
                claiming.found(answer)
                return ticket, None
            else:
                wait = float(answer)
                if wait == 0 and claiming is not None:
                    claiming.found("claimed")
    if wait is None:
        wait = _take_in_process(limits, ticket, now)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise RateLimited(f"Too many {what}; try again in {retry_after} seconds.", retry_after)
    return ticket, settled


def give_back(limits: tuple[Limit, ...], ticket: str) -> None:
    redis = redis_client()
    if redis is not None:
        try:
            with redis.pipeline(transaction=True) as pipe:
                for limit in limits:
                    pipe.zrem(_PREFIX + limit.key, ticket)
                pipe.execute()
        except RedisError as exc:  # the ticket may be in this process's fallback windows: give it back there
            log.warning("rate limit give-back per process, Redis unavailable: %s", type(exc).__name__)
        else:
            return
    with _fallback_lock:
        windows = _windows()
        for limit in limits:
            windows[limit.key] = [(at, t) for at, t in windows.get(limit.key, []) if t != ticket]


def _windows() -> dict[str, list[tuple[float, str]]]:
    # Per app, not per module: each test's app (and each dev server) starts with clean counts.
    return current_app.extensions.setdefault("micromall_rate_limits", {})


def _take_in_process(limits: tuple[Limit, ...], ticket: str, now: float) -> float:
    with _fallback_lock:
        windows, wait = _windows(), 0.0
        for limit in limits:
            entries = [(at, t) for at, t in windows.get(limit.key, []) if at > now - limit.window_s]
            windows[limit.key] = entries
            if len(entries) >= limit.limit and all(t != ticket for _, t in entries):
                wait = max(wait, entries[len(entries) - limit.limit][0] + limit.window_s - now)
        if wait > 0:
            return wait
        for limit in limits:
            windows[limit.key] = [(at, t) for at, t in windows[limit.key] if t != ticket] + [(now, ticket)]
        return 0.0
