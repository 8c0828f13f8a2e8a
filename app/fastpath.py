"""Answers Redis gives before the database: markers saying that something is settled for good (a notification id
answered, a pickup code handed over), so that a repeat is answered without a transaction.

A marker is a shortcut, never the truth. It is written only after the commit that settles the thing (a marker
written before a commit that then failed would answer a repeat for something that never happened), and only for
facts that no later change undoes. Without it (not yet written, expired, evicted, Redis away) a request takes the
database path, which decides as before; so Redis failing here costs speed, never an answer.

Claims (below) are for the copies that arrive together, before the first one's commit has left a marker (twenty
scans of one code, a notification and its copies): the first claims the thing in Redis, in the same round trip
that looks for the marker, and takes the database path; the others wait for its marker in Redis instead of on its
row locks, and answer from it as from any marker. A claim is never an answer: see Claim.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
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
        if ttl_s == _SETTLES_A_CLAIM:
            _queue_settlement(pipe, key, value or RETRY)
        elif value is None:
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


# Any end of the outermost transaction but a commit (whose listener above took what was pending): a rollback, or
# a session invalidated after a database failure (app/errors.drop_connections), which fires no rollback event.
@event.listens_for(Session, "after_transaction_end")
def _forget_unless_committed(session: Session, transaction) -> None:
    if transaction.parent is None:
        pending = session.info.pop(_PENDING, None) or []
        # A claim whose outcome was to be told after the commit: told now that there is none (ask the database).
        claims = [(redis, (key, RETRY, ttl_s)) for redis, key, _, ttl_s in pending if ttl_s == _SETTLES_A_CLAIM]
        if claims:
            _write(claims[0][0], [claim for _, claim in claims])


# Claims. A waiter gives up after CLAIM_WAIT_S (kept under the client's socket timeout, REDIS_TIMEOUT_MS) and takes
# the database path, which waits on the row lock as before; a first copy that dies holding its claim (no commit, no
# rollback) delays the next copies by at most CLAIM_TTL_MS, then the claim is gone. What the first copy leaves for
# its waiters lives DONE_TTL_S: a waiter's one round trip (BLMOVE) has found it long before.
CLAIM_TTL_MS = 3000
CLAIM_WAIT_S = 0.3
DONE_TTL_S = 10
RETRY = "retry"  # what a first copy that committed nothing (a refusal, a lost race, an error) leaves its waiters
_SETTLES_A_CLAIM = -1  # a pending entry's TTL that says: the entry settles the claim `key` with `value`
# Lua, for the scripts that look for markers and take a claim in one round trip (app/ratelimit.py, the payment
# notifications): the first of the markers KEYS[first..] that exists ('settled', its position from 0, its value);
# else, `claiming` (the last two keys are the claim and its done list), the claim taken for this copy ('claimed',
# the done list of an earlier claim emptied) or held by another ('busy'); else nothing.
SETTLED_OR_CLAIM_LUA = """
local function settled_or_claim(first, claiming, ttl_ms)
  local last = #KEYS
  if claiming then last = last - 2 end
  for i = first, last do
    local settled = redis.call('GET', KEYS[i])
    if settled then return 'settled', i - first, settled end
  end
  if not claiming then return nil end
  if redis.call('SET', KEYS[last + 1], '1', 'NX', 'PX', ttl_ms) then
    redis.call('DEL', KEYS[last + 2])
    return 'claimed'
  end
  return 'busy'
end
"""
_LOOK = SETTLED_OR_CLAIM_LUA + """
local kind, index, value = settled_or_claim(1, tonumber(ARGV[1]) > 0, ARGV[1])
if kind == 'settled' then return {kind, index, value} end
return {kind or 'none'}
"""


@dataclass
class Claim:
    """The right to take the database path first among simultaneous copies of one thing (`key`), or the wait for
    the copy that has it. Its holder settles it after its commit with the marker its waiters answer from
    (settle_after_commit; a rollback instead, or release(), leaves them RETRY); a waiter that gets RETRY, another
    thing's marker or nothing in CLAIM_WAIT_S takes the database path as if there had been no claim. So no copy is
    answered from a claim, only from what a commit made true, and a claim lost (Redis away, a holder that died)
    costs time, never an answer. `held` / `busy`: what the look at it found (neither: no Redis, or not asked)."""
    key: str
    held: bool = False
    busy: bool = False

    def redis_keys(self) -> list[str]:
        """The claim and its done list, the last two keys of a script that takes it (SETTLED_OR_CLAIM_LUA)."""
        return [_PREFIX + "claim:" + self.key, _PREFIX + "done:" + self.key]

    def found(self, kind: str) -> None:
        """What the script said of it ('claimed', 'busy' or another answer)."""
        self.held, self.busy = kind == "claimed", kind == "busy"

    def wait(self) -> str | None:
        """For a busy claim: the marker its holder committed, or None (it committed nothing, or no word in time).
        One round trip: BLMOVE of the done list onto itself hands every waiter its element and keeps it there."""
        redis = redis_client()
        if redis is None or not self.busy:
            return None
        self.busy = False
        timeout_s = min(CLAIM_WAIT_S, current_app.config.get("REDIS_TIMEOUT_MS", 500) / 1000 * 0.6)
        try:
            value = redis.blmove(self.redis_keys()[1], self.redis_keys()[1], timeout_s, "RIGHT", "LEFT")
        except RedisError as exc:
            log.warning("claim wait failed (%s): the database answers", type(exc).__name__)
            return None
        value = value.decode() if isinstance(value, bytes) else value
        return None if value in (None, RETRY) else value

    def settle_after_commit(self, marker: str | None) -> None:
        """Held: once the current transaction commits, tell the waiters `marker` (None: RETRY, nothing to answer
        from) and drop the claim; RETRY at once if it rolls back instead. In the commit's one pipeline."""
        redis = redis_client()
        if self.held and redis is not None:
            self.held = False
            db.session().info.setdefault(_PENDING, []).append((redis, self.key, marker, _SETTLES_A_CLAIM))

    def release(self) -> None:
        """Held: tell the waiters RETRY now and drop the claim (the holder is failing: nothing of it commits)."""
        redis = redis_client()
        if self.held and redis is not None:
            self.held = False
            _write(redis, [(self.key, RETRY, _SETTLES_A_CLAIM)])


def look(markers: list[str], claim: Claim | None) -> tuple[int, str] | None:
    """The first of the `markers` that exists (its position, its value), else None with `claim` taken or found
    busy; one round trip. Without Redis (or Redis failing): None, and no claim."""
    redis = redis_client()
    if redis is None:
        return None
    keys = [_PREFIX + key for key in markers] + (claim.redis_keys() if claim is not None else [])
    try:
        answer = redis.register_script(_LOOK)(keys=keys, args=[CLAIM_TTL_MS if claim is not None else 0])
    except RedisError as exc:
        log.warning("settled markers unavailable (%s): the database answers", type(exc).__name__)
        return None
    kind = answer[0].decode() if isinstance(answer[0], bytes) else answer[0]
    if claim is not None:
        claim.found(kind)
    if kind != "settled":
        return None
    value = answer[2].decode() if isinstance(answer[2], bytes) else answer[2]
    return int(answer[1]), value


def _queue_settlement(pipe, key: str, value: str) -> None:
    claim_key, done_key = Claim(key).redis_keys()
    pipe.rpush(done_key, value)
    pipe.expire(done_key, DONE_TTL_S)
    pipe.delete(claim_key)
