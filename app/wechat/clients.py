"""wechatpy clients for the three WeChat apps, pointed at the configured base URL, sharing tokens through Redis.

wechatpy 1.x writes `https://api.weixin.qq.com/` into many of its calls, so instead of patching each API class the
client's HTTP session rewrites that origin to WECHAT_API_BASE_URL: the sandbox in development and tests, WeChat
itself in production.
"""
from __future__ import annotations

from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

WECHAT_ORIGIN = "https://api.weixin.qq.com"
TIMEOUT_S = (3.05, 5)


class BaseUrlSession(requests.Session):
    """A requests session that sends api.weixin.qq.com calls to another origin (the sandbox)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if isinstance(url, str) and url.startswith(WECHAT_ORIGIN):
            url = self.base_url + url[len(WECHAT_ORIGIN):]
        kwargs.setdefault("timeout", TIMEOUT_S)
        return super().request(method, url, *args, **kwargs)


class MicromallWeChatClient(WeChatClient):
    def code_to_session(self, code: str) -> dict[str, Any]:
        """sns/jscode2session. Called directly: it takes the app secret, not an access token, and wechatpy's
        wrapper would fetch a token it does not need."""
        response = self._http.get(
            f"{WECHAT_ORIGIN}/sns/jscode2session",
            params={"appid": self.appid, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"},
        )
        response.raise_for_status()
        result = response.json()
        if int(result.get("errcode") or 0) != 0:
            raise WeChatClientException(int(result["errcode"]), result.get("errmsg"), client=self,
                                        request=response.request, response=response)
        return result

    def get_phone_number(self, code: str) -> dict[str, Any]:
        """wxa/business/getuserphonenumber (not in wechatpy 1.x)."""
        result = self.post("wxa/business/getuserphonenumber", data={"code": code},
                           api_base_url=f"{WECHAT_ORIGIN}/")
        return result["phone_info"]


def build_client(appid: str, secret: str, base_url: str, redis=None) -> MicromallWeChatClient:
    # One token per app for every web and worker process: wechatpy keeps it under "<appid>_access_token".
    storage = RedisStorage(redis, prefix="micromall:wechat") if redis is not None else MemoryStorage()
    client = MicromallWeChatClient(appid, secret, session=storage, timeout=TIMEOUT_S)
    client._http = BaseUrlSession(base_url)
    return client
