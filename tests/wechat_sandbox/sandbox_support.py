"""What the sandbox tests share: the apps, a handle on the served sandbox, and a session that sends wechatpy's
hardcoded WeChat hosts to the sandbox. (Not conftest.py: test modules import it by a name no other suite uses.)"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask


MP_APPID, MP_SECRET = "wx11110000aaaa0001", "mp-secret"
STAFF_APPID, STAFF_SECRET = "wx11110000aaaa0002", "staff-secret"
OA_APPID, OA_SECRET = "wx11110000aaaa0003", "oa-secret"
OA_TOKEN = "oa-callback-token"
OA_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, like an EncodingAESKey
SECRETS = {MP_APPID: MP_SECRET, STAFF_APPID: STAFF_SECRET, OA_APPID: OA_SECRET}
WECHAT_HOSTS = ("https://api.weixin.qq.com", "https://mp.weixin.qq.com")


@dataclass
class Sandbox:
    base_url: str
    app: Flask
    http: requests.Session

    def url(self, path: str) -> str:
        return self.base_url + path

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(self.url("/sandbox/" + path), json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    def records(self, kind: str) -> list[dict[str, Any]]:
        return self.http.get(self.url("/sandbox/records"), params={"kind": kind}).json()["items"]

    def token(self, appid: str = MP_APPID) -> str:
        params = {"grant_type": "client_credential", "appid": appid, "secret": SECRETS[appid]}
        return self.http.get(self.url("/cgi-bin/token"), params=params).json()["access_token"]

    def call(self, path: str, body: Any = None, appid: str = MP_APPID, **params: str) -> dict[str, Any]:
        """A raw API call with a fresh token of `appid`: POST with a JSON body, else GET."""
        params["access_token"] = self.token(appid)
        if body is None:
            return self.http.get(self.url(path), params=params).json()
        return self.http.post(self.url(path), params=params, json=body).json()


class RewritingSession(requests.Session):
    """wechatpy 1.8 hardcodes WeChat's hosts in places; send all of them to the sandbox."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        for host in WECHAT_HOSTS:
            if url.startswith(host):
                url = self.base_url + url[len(host):]
        return super().request(method, url, *args, **kwargs)
