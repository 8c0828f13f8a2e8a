"""What every api.weixin.qq.com endpoint of the sandbox shares: WeChat's error answers, the access-token check,
failure injection, recording, and the people/followers registry that login, user/info and messages read.

WeChat answers nearly every error with HTTP 200 and `{"errcode": n, "errmsg": "... rid: ..."}`; clients (wechatpy
among them) branch on `errcode`, so the sandbox does the same and only uses HTTP errors where WeChat does.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, current_app, request

from wechat_sandbox.settings import SandboxSettings
from wechat_sandbox.state import SandboxState

# The errmsg text WeChat sends with each code the sandbox uses (a request id follows it, as on the real servers).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40022: "invalid sub_menu level",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40029: "invalid code",
    40037: "invalid template_id",
    40053: "invalid action info",
    40125: "invalid appsecret",
    40165: "invalid weapp pagepath",
    40166: "invalid weapp appid",
    40169: "invalid length for scene, or the data is not json string",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    45015: "response out of time limit or subscription is canceled",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
    268485216: "上传时间非法，请按照 RFC 3339 格式填写",
    10060001: "支付单不存在",
    10060003: "支付单已使用重新发货机会",
    10060004: "支付单处于不可发货的状态",
    10060031: "该笔支付单不属于 openid 所指定的用户",
}

OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# WeChat keeps the previous access_token valid for five minutes after a new one is issued.
OLD_TOKEN_GRACE_S = 300
# stable_token: renewed by WeChat in the token's last 5 minutes; force_refresh 20 times a day, 30 s apart
# (developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken, 注意事项).
STABLE_RENEW_S = 300
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_INTERVAL_S = 30
# Customer-service (custom) messages may only be sent within 48 hours of the user's last interaction.
CUSTOM_WINDOW_S = 48 * 3600


class WxError(Exception):
    def __init__(self, errcode: int, detail: str | None = None) -> None:
        super().__init__(errcode, detail)
        self.errcode = errcode
        self.detail = detail


def rid() -> str:
    return f"{int(time.time()):08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def errmsg(errcode: int, detail: str | None = None) -> str:
    text = ERRMSG.get(errcode, "system error")
    if detail:
        text = f"{text} ({detail})"
    return f"{text} rid: {rid()}"


def wx_json(body: dict[str, Any], status: int = 200) -> Response:
    # WeChat's own content type, including its unusual `encoding=` parameter.
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json; encoding=utf-8")


def wx_error(errcode: int, detail: str | None = None) -> Response:
    return wx_json({"errcode": errcode, "errmsg": errmsg(errcode, detail)})


def ok(**fields: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **fields}


def state() -> SandboxState:
    return current_app.extensions["sandbox_state"]


def settings() -> SandboxSettings:
    return current_app.config["SANDBOX_SETTINGS"]


def area(name: str) -> dict[str, Any]:
    return state().area(name)


def weixin() -> dict[str, Any]:
    """The api.weixin.qq.com area, with every table it keeps (recreated after a reset)."""
    data = area("weixin")
    for table in ("tokens", "used_codes", "people", "followers", "quota", "failures", "qrcodes", "menus",
                  "stable_tokens", "token_calls", "shipments"):
        data.setdefault(table, set() if table == "used_codes" else {})
    data.setdefault("inbox", [])
    if "templates" not in data:
        from wechat_sandbox.templates import SANDBOX_TEMPLATES

        data["templates"] = {tid: list(keywords) for tid, keywords in SANDBOX_TEMPLATES.items()}
    data.setdefault("open_platform_bound", settings().open_platform_bound)
    data.setdefault("shipping_ready_after_s", settings().shipping_ready_after_s)
    return data


def is_official_account(appid: str) -> bool:
    return bool(settings().official_account_appid) and appid == settings().official_account_appid


# ---- people and followers ------------------------------------------------------------------------------------

def unionid_for(openid: str) -> str | None:
    """A unionid exists only when the apps are bound to one Open Platform account, as on WeChat: then a registered
    person's unionid, otherwise one per openid, stable across logins. Not bound: None (the field is left out)."""
    if not weixin()["open_platform_bound"]:
        return None
    return weixin()["people"].get(openid, f"sandbox-union-{openid}")


def follower(openid: str) -> dict[str, Any] | None:
    entry = weixin()["followers"].get(openid)
    return entry if entry and entry["subscribe"] else None


def within_custom_window(openid: str, now: float) -> bool:
    last = weixin()["followers"].get(openid, {}).get("interacted_at")
    return last is not None and now - last <= CUSTOM_WINDOW_S


# ---- the endpoint wrapper ------------------------------------------------------------------------------------

def _parsed_body() -> Any:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise WxError(44002)
    try:
        return json.loads(raw)
    except ValueError:
        raise WxError(47001, "body is not JSON") from None


def _query_payload() -> dict[str, str]:
    # Credentials are not worth keeping in a record that the demo prints.
    return {k: v for k, v in request.args.items() if k not in ("access_token", "secret")}


def _injected_failure(kind: str) -> Response | None:
    with state().lock:
        failures = weixin()["failures"]
        failure = failures.get(kind)
        if failure is None:
            return None
        failure["times"] -= 1
        if failure["times"] <= 0:
            del failures[kind]
    body = {"errcode": failure["errcode"], "errmsg": failure["errmsg"] or errmsg(failure["errcode"])}
    return wx_json(body, status=failure["http_status"])


def check_access_token() -> str:
    """The appid whose token came with the request; 41001/40001/42001 as WeChat answers them."""
    token = request.args.get("access_token", "")
    if not token:
        raise WxError(41001)
    issued = weixin()["tokens"].get(token)
    if issued is None:
        raise WxError(40001)
    if time.time() >= issued["expires_at"]:
        raise WxError(42001)
    return issued["appid"]


def wechat_api(bp: Blueprint, rule: str, method: str = "POST", token: bool = True,
               audience: str | None = None) -> Callable:
    """Registers a WeChat API endpoint. The handler gets (payload, appid) and returns a dict (sent as JSON) or a
    Response. Every call is recorded under its path, then injected failures apply, then the method, the access
    token and the app kind (`audience` "official_account" or "miniprogram", 48001 for the other kind) are checked.
    """
    kind = rule.lstrip("/")

    def decorator(handler: Callable[[Any, str | None], Any]) -> Callable:
        @wraps(handler)
        def view() -> Response:
            try:
                payload: Any = _query_payload()
                body_error = None
                if request.method == "POST" and method == "POST":
                    try:
                        payload = _parsed_body()
                    except WxError as exc:
                        body_error = exc
                        payload = request.get_data(as_text=True)
                # Credentials are not worth keeping in a record that the demo prints (stable_token's body has one).
                state().record(kind, {k: v for k, v in payload.items() if k != "secret"}
                               if isinstance(payload, dict) else payload)
                failure = _injected_failure(kind)
                if failure is not None:
                    return failure
                if request.method != method:
                    raise WxError(43002 if method == "POST" else 43001)
                appid = check_access_token() if token else None
                if audience and appid and settings().official_account_appid:
                    if (audience == "official_account") != is_official_account(appid):
                        raise WxError(48001)
                if body_error is not None:
                    raise body_error
                result = handler(payload, appid)
            except WxError as exc:
                return wx_error(exc.errcode, exc.detail)
            return result if isinstance(result, Response) else wx_json(result)

        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=["GET", "POST"])
        return view

    return decorator


def require_object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise WxError(47001, "body must be a JSON object")
    return payload
