"""Messages to users and the official account's user/info.

Sandbox rules (each also listed by the control endpoints that change them):
- Mini-program subscribe messages (`cgi-bin/message/subscribe/send`): as on WeChat, a send needs a one-time grant
  (the user accepted the template in wx.requestSubscribeMessage: `POST /sandbox/subscriptions/accept`) and spends
  it; without one the send gets 43101. `POST /sandbox/subscriptions` sets a count (or, as a named leniency,
  unlimited); `POST /sandbox/subscriptions/refuse` sets it to zero.
- Both template kinds are checked against the template's keywords (`wechat_sandbox/templates.py`,
  `POST /sandbox/templates`): an unknown template id is 40037, a missing, extra or empty keyword or a value that
  breaks its type's rule (thing ≤ 20 characters, phrase ≤ 5 Chinese characters, character_string ≤ 32 ASCII
  characters, amount, time, date, number, …) is 47003 naming the field, as WeChat's errmsg does.
- Official-account template messages need a follower (`POST /sandbox/followers`, or a FollowerSimulator that knows
  the sandbox): anyone else gets 43004.
- Customer-service messages (`cgi-bin/message/custom/send`) need the user's last interaction within 48 hours, as on
  WeChat; interactions are what the FollowerSimulator reports (or `interacted_at` of `POST /sandbox/followers`).
  Sent to the official account, the user must also still follow it. Otherwise 45015.
Every accepted message also lands in the user's inbox (`GET /sandbox/inbox?openid=`).
"""
from __future__ import annotations

import re
import secrets
import time
from typing import Any

from flask import Blueprint

from wechat_sandbox.weixin_common import (
    OPENID_RE,
    WxError,
    follower,
    is_official_account,
    ok,
    require_object,
    state,
    unionid_for,
    wechat_api,
    weixin,
    within_custom_window,
)

bp = Blueprint("weixin_messages", __name__)

MINIPROGRAM_STATES = ("developer", "trial", "formal")
SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")
USER_INFO_LANGS = ("zh_CN", "zh_TW", "en")
# msgtype -> the object key and the field inside it that must be present.
CUSTOM_MSGTYPES: dict[str, tuple[str, str | None]] = {
    "text": ("content", None),
    "image": ("media_id", None),
    "voice": ("media_id", None),
    "video": ("media_id", None),
    "music": ("musicurl", None),
    "news": ("articles", None),
    "mpnews": ("media_id", None),
    "mpnewsarticle": ("article_id", None),
    "msgmenu": ("list", None),
    "wxcard": ("card_id", None),
    "link": ("url", None),
    "miniprogrampage": ("pagepath", "title"),
}


def _touser(body: dict[str, Any]) -> str:
    touser = body.get("touser")
    if not isinstance(touser, str) or not OPENID_RE.match(touser):
        raise WxError(40003)
    return touser


def _template_id(body: dict[str, Any]) -> str:
    template_id = body.get("template_id")
    if not isinstance(template_id, str) or not template_id.strip():
        raise WxError(40037)
    return template_id


_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2})"
_CLOCK = r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?"
_TIME_ONE = rf"({_DATE} )?{_CLOCK}"
_DATE_ONE = rf"{_DATE}( {_CLOCK})?"
# Value rules per keyword type (subscribe-message documentation, 参数值内容限制说明).
VALUE_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"^.{1,20}$", re.S),
    "number": re.compile(r"^(?=.{1,32}$)\d+(\.\d+)?$"),
    "letter": re.compile(r"^[A-Za-z]{1,32}$"),
    "symbol": re.compile(r"^[^0-9A-Za-z\u4e00-\u9fff]{1,5}$"),
    "character_string": re.compile(r"^[\x21-\x7e]{1,32}$"),
    "time": re.compile(rf"^{_TIME_ONE}(~{_TIME_ONE})?$"),
    "date": re.compile(rf"^{_DATE_ONE}(~{_DATE_ONE})?$"),
    "amount": re.compile(r"^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$"),
    "phone_number": re.compile(r"^[0-9+\-() ]{1,17}$"),
    "car_number": re.compile(r"^.{1,8}$"),
    "name": re.compile(r"^([\u4e00-\u9fff·]{1,10}|[A-Za-z .·-]{1,20})$"),
    "phrase": re.compile(r"^[\u4e00-\u9fff]{1,5}$"),
}
KEYWORD_RE = re.compile(r"^([a-z_]+?)\d+$")


def _check_template_data(template_id: str, data: Any) -> None:
    keywords = weixin()["templates"].get(template_id)
    if keywords is None:
        raise WxError(40037)
    if not isinstance(data, dict) or not data:
        raise WxError(47003, "data is empty")
    for key in data:
        if key not in keywords:
            raise WxError(47003, f"data.{key} is not a keyword of the template")
    for key in keywords:
        item = data.get(key)
        value = item.get("value") if isinstance(item, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            raise WxError(47003, f"data.{key}.value is empty")
        if not isinstance(value, str):
            raise WxError(47003, f"data.{key}.value invalid")
        match = KEYWORD_RE.match(key)
        rule = VALUE_RULES.get(match.group(1)) if match else None
        if (rule is not None and not rule.match(value)) or len(value) > 200:
            raise WxError(47003, f"data.{key}.value invalid")


def _msgid() -> int:
    return secrets.randbits(62)


def _deliver(openid: str, channel: str, appid: str, payload: dict[str, Any], msgid: int | None) -> None:
    weixin()["inbox"].append({"openid": openid, "channel": channel, "appid": appid, "payload": payload,
                              "msgid": msgid, "at": time.time()})


def _spend_subscription(openid: str, template_id: str) -> None:
    """One grant per send; none (never accepted, or used up) is 43101. A count of None is unlimited (leniency)."""
    quota = weixin()["quota"]
    key = (openid, template_id) if (openid, template_id) in quota else (openid, "*")
    count = quota.get(key, 0)
    if count is None:
        return
    if count <= 0:
        raise WxError(43101)
    quota[key] = count - 1


@wechat_api(bp, "/cgi-bin/message/subscribe/send", audience="miniprogram")
def subscribe_send(payload: Any, appid: str) -> dict:
    body = require_object(payload)
    touser = _touser(body)
    template_id = _template_id(body)
    _check_template_data(template_id, body.get("data"))
    if body.get("miniprogram_state", "formal") not in MINIPROGRAM_STATES:
        raise WxError(47003, "miniprogram_state invalid")
    if body.get("lang", "zh_CN") not in SUBSCRIBE_LANGS:
        raise WxError(47003, "lang invalid")
    msgid = _msgid()
    with state().lock:
        _spend_subscription(touser, template_id)
        _deliver(touser, "subscribe", appid, body, msgid)
    return ok(msgid=msgid)


@wechat_api(bp, "/cgi-bin/message/template/send", audience="official_account")
def template_send(payload: Any, appid: str) -> dict:
    body = require_object(payload)
    touser = _touser(body)
    _check_template_data(_template_id(body), body.get("data"))
    miniprogram = body.get("miniprogram")
    if miniprogram is not None:
        if not isinstance(miniprogram, dict) or not miniprogram.get("appid"):
            raise WxError(40166)
    msgid = _msgid()
    with state().lock:
        if follower(touser) is None:
            raise WxError(43004)
        _deliver(touser, "template", appid, body, msgid)
    return ok(msgid=msgid)


@wechat_api(bp, "/cgi-bin/message/custom/send")
def custom_send(payload: Any, appid: str) -> dict:
    body = require_object(payload)
    touser = _touser(body)
    msgtype = body.get("msgtype")
    if msgtype not in CUSTOM_MSGTYPES:
        raise WxError(40008)
    field, second = CUSTOM_MSGTYPES[msgtype]
    content = body.get(msgtype)
    if not isinstance(content, dict) or not content.get(field) or (second and not content.get(second)):
        raise WxError(44004 if msgtype == "text" else 47001, f"{msgtype}.{field} missing")
    with state().lock:
        if is_official_account(appid) and follower(touser) is None:
            raise WxError(45015)
        if not within_custom_window(touser, time.time()):
            raise WxError(45015)
        _deliver(touser, "custom", appid, body, None)
    return ok()


@wechat_api(bp, "/cgi-bin/user/info", method="GET", audience="official_account")
def user_info(query: dict[str, str], _appid: str) -> dict:
    openid = query.get("openid", "")
    if not OPENID_RE.match(openid):
        raise WxError(40003)
    if query.get("lang", "zh_CN") not in USER_INFO_LANGS:
        raise WxError(47003, "lang invalid")
    with state().lock:
        entry = follower(openid)
        if entry is None:
            # WeChat tells nothing more about a user who does not follow the account.
            return {"subscribe": 0, "openid": openid}
        scene = entry.get("scene")
        return {
            "subscribe": 1,
            "openid": openid,
            "language": "zh_CN",  # the user's own language setting, not the `lang` asked for
            "subscribe_time": int(entry["subscribe_time"]),
            **({"unionid": unionid_for(openid)} if unionid_for(openid) else {}),
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE" if scene else "ADD_SCENE_SEARCH",
            "qr_scene": int(scene) if scene and scene.isdigit() else 0,
            "qr_scene_str": scene if scene and not scene.isdigit() else "",
        }
