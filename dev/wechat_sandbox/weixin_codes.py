"""The official account's menu and parametric QR codes, and the mini-program's unlimited wxacode."""
from __future__ import annotations

import base64
import json
import re
import secrets
import time
from typing import Any

from flask import Blueprint, Response

from wechat_sandbox import jpeg
from wechat_sandbox.weixin_common import WxError, ok, require_object, state, wechat_api, weixin

bp = Blueprint("weixin_codes", __name__)

# ---- menu/create ---------------------------------------------------------------------------------------------

KEY_TYPES = {"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
             "location_select"}
MEDIA_TYPES = {"media_id", "view_limited"}
ARTICLE_TYPES = {"article_id", "article_view_limited"}
BUTTON_TYPES = KEY_TYPES | MEDIA_TYPES | ARTICLE_TYPES | {"view", "miniprogram"}
# WeChat's error codes for (top-level button, sub button).
SIZE, TYPE, NAME, KEY, URL = (40016, 40023), (40017, 40024), (40018, 40025), (40019, 40026), (40020, 40027)
NAME_BYTES = (16, 60)


def _byte_len(value: Any) -> int:
    return len(value.encode()) if isinstance(value, str) else -1


def _check_button(button: Any, level: int) -> None:
    if not isinstance(button, dict):
        raise WxError(47001, "a button must be an object")
    if not 1 <= _byte_len(button.get("name")) <= NAME_BYTES[level]:
        raise WxError(NAME[level])
    subs = button.get("sub_button") or []
    if subs:
        if level == 1:
            raise WxError(40022)
        if not isinstance(subs, list) or len(subs) > 5:
            raise WxError(SIZE[1])
        for sub in subs:
            _check_button(sub, 1)
        return
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        raise WxError(TYPE[level])
    if kind in KEY_TYPES and not 1 <= _byte_len(button.get("key")) <= 128:
        raise WxError(KEY[level])
    if kind in ("view", "miniprogram") and not 1 <= _byte_len(button.get("url")) <= 1024:
        raise WxError(URL[level])
    if kind == "miniprogram":
        if not button.get("appid"):
            raise WxError(40166)
        pagepath = button.get("pagepath")
        if not isinstance(pagepath, str) or not pagepath:
            raise WxError(40165)
    if kind in MEDIA_TYPES and not button.get("media_id"):
        raise WxError(40007)
    if kind in ARTICLE_TYPES and not button.get("article_id"):
        raise WxError(47001, "article_id missing")


@wechat_api(bp, "/cgi-bin/menu/create", audience="official_account")
def menu_create(payload: Any, appid: str) -> dict:
    buttons = require_object(payload).get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WxError(SIZE[0])
    for button in buttons:
        _check_button(button, 0)
    with state().lock:
        weixin()["menus"][appid] = payload
    return ok()


# ---- qrcode/create and showqrcode ----------------------------------------------------------------------------

QR_TEMPORARY = {"QR_SCENE", "QR_STR_SCENE"}
QR_ACTIONS = QR_TEMPORARY | {"QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"}
QR_DEFAULT_EXPIRE_S = 60
QR_MAX_EXPIRE_S = 2592000  # 30 days


def _qr_scene(action: str, info: Any) -> str:
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise WxError(40053)
    if action.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise WxError(40053)
        return value
    value = scene.get("scene_id")
    limit = 100000 if action == "QR_LIMIT_SCENE" else 2**32 - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise WxError(40053)
    return str(value)


@wechat_api(bp, "/cgi-bin/qrcode/create", audience="official_account")
def qrcode_create(payload: Any, appid: str) -> dict:
    body = require_object(payload)
    action = body.get("action_name")
    if action not in QR_ACTIONS:
        raise WxError(40053)
    scene = _qr_scene(action, body.get("action_info"))
    url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(18)
    # Like WeChat's, a ticket is standard base64 (with + / =), so clients must URL-encode it for showqrcode.
    ticket = base64.b64encode(b"\x81\x01" + secrets.token_bytes(7) + url.encode()).decode()
    result: dict[str, Any] = {"ticket": ticket}
    expires_at = None
    if action in QR_TEMPORARY:
        expire_seconds = body.get("expire_seconds", QR_DEFAULT_EXPIRE_S)
        if isinstance(expire_seconds, bool) or not isinstance(expire_seconds, int) or expire_seconds < 1:
            raise WxError(47001, "expire_seconds invalid")
        expire_seconds = min(expire_seconds, QR_MAX_EXPIRE_S)
        expires_at = time.time() + expire_seconds
        result["expire_seconds"] = expire_seconds
    result["url"] = url
    with state().lock:
        weixin()["qrcodes"][ticket] = {"appid": appid, "action_name": action, "scene": scene, "url": url,
                                       "expires_at": expires_at}
    return result


@wechat_api(bp, "/cgi-bin/showqrcode", method="GET", token=False)
def showqrcode(query: dict[str, str], _appid: None) -> Response:
    """Served by mp.weixin.qq.com on WeChat: a JPEG download answered as `image/jpg` (WeChat's own, non-standard
    type), 404 for an unknown or expired ticket."""
    qrcode = weixin()["qrcodes"].get(query.get("ticket", ""))
    if qrcode is None or (qrcode["expires_at"] is not None and time.time() >= qrcode["expires_at"]):
        return Response("", status=404)
    return Response(jpeg.code_image(qrcode["url"]), content_type="image/jpg")


# ---- wxa/getwxacodeunlimit -----------------------------------------------------------------------------------

SCENE_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
PAGE_RE = re.compile(r"^[0-9A-Za-z_\-./]+$")
ENV_VERSIONS = ("release", "trial", "develop")


@wechat_api(bp, "/wxa/getwxacodeunlimit", audience="miniprogram")
def getwxacodeunlimit(payload: Any, appid: str) -> Response:
    body = require_object(payload)
    scene = body.get("scene")
    if not isinstance(scene, str) or not SCENE_RE.match(scene):
        raise WxError(40169)
    page = body.get("page")
    if page is not None and (not isinstance(page, str) or page.startswith("/") or not PAGE_RE.match(page)):
        raise WxError(41030)
    env_version = body.get("env_version", "release")
    if env_version not in ENV_VERSIONS:
        raise WxError(47001, "env_version invalid")
    width = body.get("width", 430)
    width = min(max(width if isinstance(width, int) else 430, 280), 1280)
    content = json.dumps({"appid": appid, "page": page or "", "scene": scene, "env_version": env_version})
    # WeChat sends the code as image/jpeg (errors as JSON, with HTTP 200).
    return Response(jpeg.code_image(content, width), content_type="image/jpeg")
