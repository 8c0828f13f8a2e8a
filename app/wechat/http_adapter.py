"""The adapter behind `app/wechat/port.py`: WeChat's HTTP API over `requests`, with a timeout on every call.

Plain HTTP rather than wechatpy's clients: wechatpy 1.x retries 40001/42001 without bound through
`/cgi-bin/token` (each retry invalidating the token of every other process), hardcodes api.weixin.qq.com, and lacks
the newer APIs (stable_token, phone numbers, shipping). Here a call that meets 40001/42001 asks the token store for
a replacement once and retries once; anything else becomes a port exception.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import requests

from app.wechat.port import (
    TOKEN_INVALID,
    MiniProgramSession,
    WeChatError,
    WeChatImage,
    WeChatRefused,
    WeChatUnavailable,
    error_for,
)
from app.wechat.tokens import TokenStore

log = logging.getLogger(__name__)
TIMEOUT_S = (3.05, 5.0)  # (connect, read)
QR_MAX_EXPIRE_S = 2592000  # temporary QR codes live at most 30 days (qrcode/create)


class HttpWeChatApi:
    def __init__(self, appid: str, secret: str, base_url: str, mp_base_url: str, redis=None,
                 session: requests.Session | None = None, timeout: tuple[float, float] = TIMEOUT_S) -> None:
        self.appid = appid
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.mp_base_url = mp_base_url.rstrip("/")
        self._http = session or requests.Session()
        self.timeout = timeout
        self.tokens = TokenStore(appid, self._fetch_stable_token, redis)

    # ---- plumbing --------------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, what: str, timeout=None, **kwargs: Any) -> requests.Response:
        try:
            response = self._http.request(method, url, timeout=timeout or self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise WeChatUnavailable(f"{what}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise WeChatUnavailable(f"{what}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise WeChatRefused(f"{what}: HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise WeChatUnavailable(f"{what}: the answer is not JSON") from exc
        if not isinstance(body, dict):
            raise WeChatUnavailable(f"{what}: the answer is not a JSON object")
        return body

    def _fetch_stable_token(self, force: bool) -> tuple[str, int]:
        what = "cgi-bin/stable_token"
        body: dict[str, Any] = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret}
        if force:
            body["force_refresh"] = True
        result = self._json(self._send("POST", f"{self.base_url}/cgi-bin/stable_token", what, json=body), what)
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise error_for(errcode, result.get("errmsg"), what)
        return str(result["access_token"]), int(result.get("expires_in") or 7200)

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
              raw: bool = False, timeout=None) -> Any:
        """An access-token call. JSON answers with a non-zero errcode raise; with `raw`, a non-JSON answer is
        returned as the Response (images)."""
        token = self.tokens.get()
        for attempt in (1, 2):
            query = {**(params or {}), "access_token": token}
            kwargs: dict[str, Any] = {"params": query}
            if body is not None:
                # ensure_ascii=False: WeChat counts characters of the UTF-8 text, not of \\u escapes.
                kwargs["data"] = _json_bytes(body)
                kwargs["headers"] = {"Content-Type": "application/json; charset=utf-8"}
            response = self._send(method, f"{self.base_url}/{path}", path, timeout=timeout, **kwargs)
            content_type = response.headers.get("Content-Type", "")
            if raw and not content_type.startswith(("application/json", "text/plain", "text/json")):
                return response
            result = self._json(response, path)
            errcode = int(result.get("errcode") or 0)
            if errcode in TOKEN_INVALID and attempt == 1:
                log.info("%s: errcode %s, retrying once with a renewed token", path, errcode)
                token = self.tokens.refresh(token)
                continue
            if errcode:
                raise error_for(errcode, result.get("errmsg"), path)
            return response if raw else result
        raise AssertionError("unreachable")

    # ---- the port --------------------------------------------------------------------------------------------

    def token_is_warm(self) -> bool:
        return self.tokens.is_warm()

    def send_custom_message(self, openid: str, msgtype: str, content: dict[str, Any]) -> None:
        self._call("POST", "cgi-bin/message/custom/send", {"touser": openid, "msgtype": msgtype, msgtype: content})

    def code_to_session(self, code: str) -> MiniProgramSession:
        what = "sns/jscode2session"  # takes the app secret, not an access token
        response = self._send("GET", f"{self.base_url}/sns/jscode2session", what, params={
            "appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"})
        result = self._json(response, what)
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise error_for(errcode, result.get("errmsg"), what)
        return MiniProgramSession(result["openid"], result["session_key"], result.get("unionid") or None)

    def phone_number(self, code: str) -> str:
        info = self._call("POST", "wxa/business/getuserphonenumber", {"code": code})["phone_info"]
        return info.get("phoneNumber") or info.get("purePhoneNumber")

    def send_subscribe_message(self, openid: str, template_id: str, data: dict[str, str],
                               page: str | None = None) -> str:
        body: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                "data": {key: {"value": value} for key, value in data.items()}}
        if page:
            body["page"] = page
        return str(self._call("POST", "cgi-bin/message/subscribe/send", body).get("msgid") or "")

    def wxacode_unlimited(self, scene: str, page: str | None = None, width: int = 430,
                          env_version: str = "release", check_path: bool = True) -> WeChatImage:
        body: dict[str, Any] = {"scene": scene, "width": width, "env_version": env_version,
                                "check_path": check_path}
        if page:
            body["page"] = page
        return _image(self._call("POST", "wxa/getwxacodeunlimit", body, raw=True), "wxa/getwxacodeunlimit")

    def upload_shipping_info(self, payload: dict[str, Any]) -> None:
        self._call("POST", "wxa/sec/order/upload_shipping_info", payload)

    def shipping_order(self, transaction_id: str | None = None, merchant_id: str | None = None,
                       merchant_trade_no: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("transaction_id", transaction_id), ("merchant_id", merchant_id),
                                  ("merchant_trade_no", merchant_trade_no)) if v}
        return self._call("POST", "wxa/sec/order/get_order", body).get("order") or {}

    def user_info(self, openid: str, timeout=None) -> dict[str, Any]:
        return self._call("GET", "cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"}, timeout=timeout)

    def send_template_message(self, openid: str, template_id: str, data: dict[str, str],
                              miniprogram: dict[str, str] | None = None) -> str:
        body: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                "data": {key: {"value": value} for key, value in data.items()}}
        if miniprogram:
            body["miniprogram"] = miniprogram
        return str(self._call("POST", "cgi-bin/message/template/send", body).get("msgid") or "")

    def create_qrcode(self, scene: str, expire_seconds: int | None = None) -> dict[str, Any]:
        if expire_seconds is None:
            body: dict[str, Any] = {"action_name": "QR_LIMIT_STR_SCENE"}
        else:
            body = {"action_name": "QR_STR_SCENE", "expire_seconds": min(int(expire_seconds), QR_MAX_EXPIRE_S)}
        body["action_info"] = {"scene": {"scene_str": scene}}
        return self._call("POST", "cgi-bin/qrcode/create", body)

    def qrcode_image(self, ticket: str) -> WeChatImage:
        what = "showqrcode"
        # mp.weixin.qq.com, no access token; requests URL-encodes the base64 ticket (+ / =).
        response = self._send("GET", f"{self.mp_base_url}/cgi-bin/showqrcode", what, params={"ticket": ticket})
        return _image(response, what)

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._call("POST", "cgi-bin/menu/create", menu)


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _image(response: requests.Response, what: str) -> WeChatImage:
    """Any image/* answer is taken as it is (WeChat answers `image/jpg` for JPEG); JSON is an error by errcode."""
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("image/"):
        return WeChatImage(response.content, content_type.split(";")[0].strip())
    try:
        result = response.json()
    except ValueError:
        raise WeChatUnavailable(f"{what}: answered {content_type or 'no content type'}, not an image") from None
    errcode = int(result.get("errcode") or 0) if isinstance(result, dict) else 0
    if errcode:
        raise error_for(errcode, result.get("errmsg"), what)
    raise WeChatError(f"{what}: answered JSON without an image")
