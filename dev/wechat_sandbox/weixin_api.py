"""api.weixin.qq.com in the sandbox: access tokens and mini-program login here; messages, QR codes and shipping in
the `weixin_*` modules, whose blueprints nest under this one.

Sandbox conventions (WeChat's clients never see them, only the tests and the demo that make up the codes):
- `wx.login` codes are `sandbox-<openid>`, optionally `sandbox-<openid>.<anything>` so that one openid can log in
  many times (`.` is not an openid character). A code works once; reused or malformed → 40029.
- `getPhoneNumber` codes are `sandbox-phone-<digits>` (a mainland number, country code 86), with the same optional
  `.<anything>` suffix; each works once.
"""
from __future__ import annotations

import base64
import re
import secrets
import time

from flask import Blueprint, request

from wechat_sandbox import weixin_codes, weixin_messages, weixin_shipping
from wechat_sandbox.weixin_common import (
    FORCE_REFRESH_INTERVAL_S,
    FORCE_REFRESH_PER_DAY,
    OLD_TOKEN_GRACE_S,
    STABLE_RENEW_S,
    WxError,
    ok,
    require_object,
    settings,
    state,
    unionid_for,
    wechat_api,
    weixin,
)

bp = Blueprint("weixin_api", __name__)
bp.register_blueprint(weixin_messages.bp)
bp.register_blueprint(weixin_codes.bp)
bp.register_blueprint(weixin_shipping.bp)

LOGIN_CODE_RE = re.compile(r"^sandbox-([A-Za-z0-9_-]{1,64})(?:\.[A-Za-z0-9_-]{1,64})?$")
PHONE_CODE_RE = re.compile(r"^sandbox-phone-([0-9]{5,15})(?:\.[A-Za-z0-9_-]{1,64})?$")


def _check_app(appid: str, secret: str) -> None:
    if not appid:
        raise WxError(41002)
    if not secret:
        raise WxError(41004)
    known = settings().apps.get(appid)
    if known is None:
        raise WxError(40013)
    if not secrets.compare_digest(known, secret):
        raise WxError(40125)


def _spend_code(code: str, pattern: re.Pattern[str]) -> re.Match[str]:
    """A code is good once: WeChat answers 40029 for unknown and reused codes alike."""
    match = pattern.match(code)
    with state().lock:
        used = weixin()["used_codes"]
        if match is None or code in used:
            raise WxError(40029)
        used.add(code)
    return match


def _count_call(kind: str, appid: str, limit: int) -> None:
    """A daily quota per app and API, as WeChat keeps one: 45009 once it is spent (until the next day)."""
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))  # WeChat's day is Beijing's
    with state().lock:
        calls = weixin()["token_calls"]
        key = (kind, appid, day)
        if calls.get(key, 0) >= limit:
            raise WxError(45009)
        calls[key] = calls.get(key, 0) + 1


@wechat_api(bp, "/cgi-bin/token", method="GET", token=False)
def token(query: dict[str, str], _appid: None) -> dict:
    if query.get("grant_type") != "client_credential":
        raise WxError(40002)
    appid = query.get("appid", "")
    # The recorded payload leaves the secret out, so it is read from the request itself.
    _check_app(appid, request.args.get("secret", ""))
    _count_call("token", appid, settings().token_daily_quota)
    now = time.time()
    ttl = settings().access_token_ttl_s
    # Real tokens are long opaque strings; the prefix only helps a human reading logs.
    new_token = "sandbox_" + secrets.token_urlsafe(96)
    with state().lock:
        tokens = weixin()["tokens"]
        for issued in tokens.values():
            if issued["appid"] == appid and not issued.get("stable"):  # stable tokens are isolated from these
                issued["expires_at"] = min(issued["expires_at"], now + OLD_TOKEN_GRACE_S)
        tokens[new_token] = {"appid": appid, "expires_at": now + ttl}
    return {"access_token": new_token, "expires_in": ttl}


@wechat_api(bp, "/cgi-bin/stable_token", token=False)
def stable_token(payload: object, _appid: None) -> dict:
    """getStableAccessToken: POST JSON only. Normal mode hands every caller the same token while it is valid and a
    new one in its last 5 minutes (the old one stays valid until it expires); force_refresh invalidates the
    current token and is allowed 20 times a day, 30 s apart. Isolated from /cgi-bin/token's tokens."""
    body = require_object(payload)
    if body.get("grant_type") != "client_credential":
        raise WxError(40002)
    appid = body.get("appid") if isinstance(body.get("appid"), str) else ""
    secret = body.get("secret") if isinstance(body.get("secret"), str) else ""
    _check_app(appid, secret)
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        raise WxError(47001, "force_refresh must be a boolean")
    _count_call("stable_token", appid, settings().stable_token_daily_quota)
    now = time.time()
    ttl = settings().access_token_ttl_s
    with state().lock:
        current = weixin()["stable_tokens"].get(appid)
        tokens = weixin()["tokens"]
        live = current is not None and current["token"] in tokens and now < tokens[current["token"]]["expires_at"]
        if force:
            forced = [t for t in current.get("forced", []) if now - t < 86400] if current else []
            if len(forced) >= FORCE_REFRESH_PER_DAY or (forced and now - forced[-1] < FORCE_REFRESH_INTERVAL_S):
                # The documented limits; the errcode WeChat uses for them is not documented: 45009 (quota) here.
                raise WxError(45009, "force_refresh limit")
            if live:
                del tokens[current["token"]]  # forced mode invalidates the previous token at once
            forced.append(now)
        elif live and tokens[current["token"]]["expires_at"] - now > min(STABLE_RENEW_S, ttl / 2):
            return {"access_token": current["token"], "expires_in": int(tokens[current["token"]]["expires_at"] - now)}
        else:
            forced = current.get("forced", []) if current else []
        # Real tokens are long opaque strings; the prefix only helps a human reading logs.
        new_token = "sandbox_stable_" + secrets.token_urlsafe(96)
        tokens[new_token] = {"appid": appid, "expires_at": now + ttl, "stable": True}
        weixin()["stable_tokens"][appid] = {"token": new_token, "forced": forced}
    return {"access_token": new_token, "expires_in": ttl}


@wechat_api(bp, "/sns/jscode2session", method="GET", token=False)
def jscode2session(query: dict[str, str], _appid: None) -> dict:
    appid = query.get("appid", "")
    _check_app(appid, request.args.get("secret", ""))
    if query.get("grant_type") != "authorization_code":
        raise WxError(40002)
    code = query.get("js_code", "")
    if not code:
        raise WxError(41008)
    openid = _spend_code(code, LOGIN_CODE_RE).group(1)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode()
    result = {"session_key": session_key, "openid": openid}
    unionid = unionid_for(openid)
    if unionid:  # only when the apps share an Open Platform account
        result["unionid"] = unionid
    return result


@wechat_api(bp, "/wxa/business/getuserphonenumber", audience="miniprogram")
def getuserphonenumber(payload: object, appid: str) -> dict:
    body = require_object(payload)
    code = body.get("code")
    if not isinstance(code, str) or not code:
        raise WxError(41008)
    digits = _spend_code(code, PHONE_CODE_RE).group(1)
    return ok(phone_info={
        # Mainland numbers carry no country prefix in phoneNumber; WeChat sends countryCode as a string.
        "phoneNumber": digits,
        "purePhoneNumber": digits,
        "countryCode": "86",
        "watermark": {"timestamp": int(time.time()), "appid": appid},
    })
