"""The access-token store: one stable_token shared by every process, renewed by one refresher, a 40001 retried at
most once with a forced refresh, and a degraded but working mode when Redis fails."""
from __future__ import annotations

import logging
import threading

import pytest
import redis as redis_lib

from app.wechat.port import WeChatUnavailable
from app.wechat.tokens import TokenStore

TTL = 7200
PROCESSES = 8


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeRedis:
    """get/set(nx, ex)/delete with expiry on the simulated clock; one lock, as Redis is single-threaded."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.data, self.lock, self.fail = clock, {}, threading.Lock(), False

    def _alive(self, key):
        value = self.data.get(key)
        if value is not None and value[1] is not None and value[1] <= self.clock():
            del self.data[key]
            return None
        return value

    def get(self, key):
        if self.fail:
            raise redis_lib.ConnectionError("down")
        with self.lock:
            value = self._alive(key)
            return value[0] if value else None

    def set(self, key, value, nx=False, ex=None):
        if self.fail:
            raise redis_lib.ConnectionError("down")
        with self.lock:
            if nx and self._alive(key) is not None:
                return None
            self.data[key] = (value, self.clock() + ex if ex else None)
            return True

    def delete(self, key):
        with self.lock:
            self.data.pop(key, None)


class StableTokenService:
    """WeChat's side of stable_token: the same token while valid, a new one in its last 5 minutes, force_refresh
    invalidating the current one."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.lock = clock, threading.Lock()
        self.calls = self.forced = 0
        self.token, self.expires_at, self.serial = None, 0.0, 0

    def fetch(self, force: bool) -> tuple[str, int]:
        with self.lock:
            self.calls += 1
            now = self.clock()
            if force or self.token is None or self.expires_at - now <= 300:
                self.forced += force
                self.serial += 1
                self.token, self.expires_at = f"token-{self.serial}", now + TTL
            return self.token, int(self.expires_at - now)


def test_eight_processes_for_an_hour_fetch_once_and_renew_through_one_refresher():
    clock = Clock()
    redis, wechat = FakeRedis(clock), StableTokenService(clock)
    stores = [TokenStore("wxapp", wechat.fetch, redis, clock=clock, sleep=lambda s: None) for _ in range(PROCESSES)]
    barrier = threading.Barrier(PROCESSES + 1)
    steps, step_s = 3 * 3600 // 5, 5  # three simulated hours: the token is renewed once on the way
    seen: set[str] = set()

    def process(store: TokenStore) -> None:
        for _ in range(steps):
            barrier.wait()
            seen.add(store.get())  # every process calls WeChat every 5 s
            barrier.wait()

    threads = [threading.Thread(target=process, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for step in range(steps):
        barrier.wait()  # the processes call now
        barrier.wait()
        if step % 12 == 0:
            stores[0].refresh_if_due()  # the periodic refresher, every minute, in one process
        clock.now += step_s
    for thread in threads:
        thread.join()
    # One fetch at start and one renewal in the last five minutes of the first token (at ~1h55m): two in all,
    # against 8 x 2160 calls; never a forced refresh.
    assert wechat.calls == 2 and wechat.forced == 0
    assert seen == {"token-1", "token-2"}
    assert sum(store.fetches for store in stores) == 2


def test_a_refused_token_is_replaced_once_and_forced_at_most_every_30_seconds():
    clock = Clock()
    redis, wechat = FakeRedis(clock), StableTokenService(clock)
    first, second = (TokenStore("wxapp", wechat.fetch, redis, clock=clock) for _ in range(2))
    token = first.get()
    # WeChat refuses the token (someone else force-refreshed): a normal fetch returns the same token, so one
    # forced refresh follows, shared with the other process.
    new = first.refresh(token)
    assert new != token and wechat.forced == 1
    assert second.refresh(token) == new and wechat.forced == 1  # the other process sees it, forces nothing
    with pytest.raises(WeChatUnavailable):
        first.refresh(new)  # refused again within 30 s: no second forced refresh
    clock.now += 31
    assert first.refresh(new) != new and wechat.forced == 2


def test_without_redis_or_when_redis_fails_calls_still_get_a_token(caplog):
    clock = Clock()
    redis, wechat = FakeRedis(clock), StableTokenService(clock)
    store = TokenStore("wxapp", wechat.fetch, redis, clock=clock)
    assert store.get() == "token-1"
    redis.fail = True
    with caplog.at_level(logging.WARNING, logger="app.wechat.tokens"):
        assert store.get() == "token-1"  # this process's copy
        assert "Redis unavailable" in caplog.text
    clock.now += TTL  # expired: fetched again without Redis, without an error
    assert store.get() == "token-2"
    alone = TokenStore("wxapp", wechat.fetch, None, clock=clock)
    assert alone.get() == "token-2" and alone.is_warm()
    assert "token-1" not in caplog.text  # the token itself is never logged
