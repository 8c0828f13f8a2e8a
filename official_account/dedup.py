"""WeChat retries a message it got no answer for within 5 s, three times. The first arrival claims a short-lived
key (Redis SET NX EX, or an in-process dict without Redis); a retry finds it and gets the first reply again, or
`success` while the first is still being handled. So a retry never runs a handler twice.

Messages are keyed by MsgId, events by FromUserName + CreateTime + Event as WeChat's documentation advises, plus
EventKey: two different events of one follower within one second (two QR codes, two menu clicks) are not retries.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app
from redis import RedisError

from app.extensions import redis_client

log = logging.getLogger(__name__)
TTL_S = 60  # WeChat's retries span about 15 s
PREFIX = "micromall:oa:seen:"
PENDING = "pending"  # a stored reply is "" (success) or starts with "<xml>", never this


def key_for(fields: dict[str, Any]) -> str:
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    return (f"event:{fields.get('FromUserName')}:{fields.get('CreateTime')}:{fields.get('Event')}:"
            f"{fields.get('EventKey') or ''}")


class LocalSeen:
    """The in-process stand-in for Redis (development without REDIS_URL): one process, so one dict suffices."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str]] = {}

    def claim(self, key: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) > 1000:  # forget expired keys now and then, so the dict stays small
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
            held = self._items.get(key)
            if held is not None and held[0] > now:
                return held[1]
            self._items[key] = (now + TTL_S, PENDING)
            return None

    def store(self, key: str, reply: str) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + TTL_S, reply)

    def release(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


def init_app(app: Flask) -> None:
    app.extensions["micromall_oa_seen"] = LocalSeen()


def claim(key: str) -> tuple[bool, str | None]:
    """(first, earlier reply): first is True for the first arrival; for a retry, the reply the first one gave,
    or None while it is still being handled."""
    redis = redis_client()
    if redis is None:
        held = current_app.extensions["micromall_oa_seen"].claim(key)
    else:
        try:
            if redis.set(PREFIX + key, PENDING, nx=True, ex=TTL_S):
                return True, None
            value = redis.get(PREFIX + key)
        except RedisError:
            # Without Redis we cannot tell a retry from a first arrival: answering beats refusing the follower.
            log.warning("dedup unavailable; handling message %s without it", key, exc_info=True)
            return True, None
        held = PENDING if value is None else value.decode()
    if held is None:
        return True, None
    return earlier(held)


def earlier(held: bytes | str) -> tuple[bool, str | None]:
    """claim()'s answer for a retry whose key holds `held`: the first arrival's reply, None while it has none."""
    text = held.decode() if isinstance(held, bytes) else held
    return False, None if text == PENDING else text


def store(key: str, reply: str) -> None:
    redis = redis_client()
    if redis is None:
        current_app.extensions["micromall_oa_seen"].store(key, reply)
        return
    try:
        redis.set(PREFIX + key, reply, xx=True, ex=TTL_S)
    except RedisError:
        log.warning("could not store the reply of %s", key, exc_info=True)


def release(key: str) -> None:
    """The handler failed: let WeChat's retry run it."""
    redis = redis_client()
    if redis is None:
        current_app.extensions["micromall_oa_seen"].release(key)
        return
    try:
        redis.delete(PREFIX + key)
    except RedisError:
        log.warning("could not release %s", key, exc_info=True)
