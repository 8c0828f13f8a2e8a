"""Access tokens shared by every process through Redis, from `POST /cgi-bin/stable_token`.

Why stable_token and not `/cgi-bin/token`: in its normal mode a repeated call returns the *same* token while it is
valid (WeChat renews it in the last 5 minutes), so concurrent fetches by several processes never invalidate each
other. `force_refresh=true` does invalidate the previous token and WeChat allows it 20 times a day, 30 s apart, so
it is used only when a normal fetch hands back the very token WeChat just refused (40001) and at most once per
30 s per app across all processes. Source: developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
("普通模式下平台会提前 5 分钟更新 access_token"; "强制刷新模式每天限用 20 次且需间隔 30 秒").

One refresher (the periodic job `refresh_access_tokens`) renews tokens in their last 5 minutes so that calls never
wait for a fetch; a call that finds no usable token fetches under a Redis lock while others wait briefly for it.
When Redis errors, the store falls back to a per-process copy and logs it: more fetches, but calls keep working.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from app.wechat.port import WeChatUnavailable

log = logging.getLogger(__name__)

KEY = "micromall:wechat:token:{appid}"
LOCK_KEY = "micromall:wechat:token-lock:{appid}"
FORCED_KEY = "micromall:wechat:token-forced:{appid}"
RENEW_AHEAD_S = 300  # WeChat renews a stable token 5 minutes before it expires: the refresher picks it up then
STALE_AHEAD_S = 60  # a call treats a token in its last minute as gone (clock skew, the call's own duration)
FORCED_INTERVAL_S = 30
LOCK_S = 10
WAIT_FOR_OTHER_S = 3.0


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float


# (force_refresh) -> (access_token, expires_in)
Fetcher = Callable[[bool], tuple[str, int]]


class TokenStore:
    def __init__(self, appid: str, fetch: Fetcher, redis=None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.appid = appid
        self._fetch = fetch
        self._redis = redis
        self._clock = clock
        self._sleep = sleep
        self._local: Token | None = None  # this process's copy, used when Redis is absent or failing
        self._local_lock = threading.Lock()
        self.fetches = 0  # for tests and the bench: how many times this store asked WeChat

    # ---- reading and writing ---------------------------------------------------------------------------------

    def _read(self) -> Token | None:
        if self._redis is not None:
            try:
                raw = self._redis.get(KEY.format(appid=self.appid))
                if raw is None:
                    return None
                data = json.loads(raw)
                return Token(data["token"], float(data["expires_at"]))
            except Exception as exc:  # noqa: BLE001 - any Redis trouble: degrade to the local copy
                log.warning("token store: Redis unavailable for %s (%s); using this process's copy",
                            self.appid, type(exc).__name__)
        return self._local

    def _write(self, token: Token) -> None:
        self._local = token
        if self._redis is None:
            return
        ttl = max(1, int(token.expires_at - self._clock()))
        try:
            self._redis.set(KEY.format(appid=self.appid),
                            json.dumps({"token": token.value, "expires_at": token.expires_at}), ex=ttl)
        except Exception as exc:  # noqa: BLE001
            log.warning("token store: could not share the token of %s through Redis (%s)", self.appid,
                        type(exc).__name__)

    def _set_nx(self, key: str, seconds: int) -> bool:
        """A cross-process "only one of us" flag; without Redis every process is alone, so it always wins."""
        if self._redis is None:
            return True
        try:
            return bool(self._redis.set(key.format(appid=self.appid), "1", nx=True, ex=seconds))
        except Exception as exc:  # noqa: BLE001
            log.warning("token store: Redis unavailable for the %s lock (%s)", self.appid, type(exc).__name__)
            return True

    def _release(self, key: str) -> None:
        if self._redis is not None:
            try:
                self._redis.delete(key.format(appid=self.appid))
            except Exception:  # noqa: BLE001 - the lock expires by itself
                pass

    def _do_fetch(self, force: bool) -> Token:
        self.fetches += 1
        value, expires_in = self._fetch(force)
        token = Token(value, self._clock() + int(expires_in))
        self._write(token)
        return token

    # ---- what callers use ------------------------------------------------------------------------------------

    def is_warm(self) -> bool:
        token = self._read()
        return token is not None and token.expires_at - STALE_AHEAD_S > self._clock()

    def get(self) -> str:
        token = self._read()
        if token is not None and token.expires_at - STALE_AHEAD_S > self._clock():
            return token.value
        with self._local_lock:  # threads of one process fetch once
            token = self._read()
            if token is not None and token.expires_at - STALE_AHEAD_S > self._clock():
                return token.value
            if self._set_nx(LOCK_KEY, LOCK_S):
                try:
                    return self._do_fetch(False).value
                finally:
                    self._release(LOCK_KEY)
            # Another process is fetching: wait for its token rather than ask WeChat too.
            deadline = self._clock() + WAIT_FOR_OTHER_S
            while self._clock() < deadline:
                self._sleep(0.05)
                token = self._read()
                if token is not None and token.expires_at - STALE_AHEAD_S > self._clock():
                    return token.value
            return self._do_fetch(False).value  # normal mode is harmless to repeat: the same token comes back

    def refresh(self, refused: str) -> str:
        """WeChat refused `refused` (40001/42001). Returns a token to retry with, or raises WeChatUnavailable
        when only a forced refresh would help and one was made less than 30 s ago."""
        with self._local_lock:
            token = self._read()
            if token is not None and token.value != refused and token.expires_at - STALE_AHEAD_S > self._clock():
                return token.value  # someone already replaced it
            token = self._do_fetch(False)
            if token.value != refused:
                return token.value
            if not self._set_nx(FORCED_KEY, FORCED_INTERVAL_S):
                raise WeChatUnavailable(f"access token of {self.appid} refused and force-refreshed less than "
                                        f"{FORCED_INTERVAL_S} s ago")
            log.warning("token store: forcing a new access token for %s", self.appid)
            return self._do_fetch(True).value

    def refresh_if_due(self) -> bool:
        """The refresher: fetch when the shared token is missing or in its last 5 minutes. True if it fetched."""
        token = self._read()
        if token is not None and token.expires_at - RENEW_AHEAD_S > self._clock():
            return False
        if not self._set_nx(LOCK_KEY, LOCK_S):
            return False
        try:
            self._do_fetch(False)
        finally:
            self._release(LOCK_KEY)
        return True
