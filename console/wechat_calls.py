"""The console's few calls to WeChat, in one place, through the existing wechatpy clients (app.wechat).

The wechat engineer is adding a WeChat API port in app/wechat/ that hides wechatpy from the domain; these
functions are the ones to move onto it (qrcode/create, showqrcode, wxa/getwxacodeunlimit, menu/create).
"""
from __future__ import annotations

from typing import Any

import requests
from requests import RequestException
from wechatpy.exceptions import WeChatClientException

from app import wechat
from app.errors import UpstreamUnavailable
from app.followers.service import store_scene

# A QR code's login lifetime: long enough to find the phone, short enough that a photo of it is soon worthless.
LOGIN_QR_TTL_S = 300


def _qr_image(body: dict[str, Any]) -> bytes:
    from official_account.cli import showqrcode_url

    try:
        ticket = wechat.client("official_account").qrcode.create(body)["ticket"]
        response = requests.get(showqrcode_url(ticket), timeout=(3.05, 10))
        response.raise_for_status()
    except (WeChatClientException, RequestException, KeyError) as exc:
        raise UpstreamUnavailable(f"微信暂时无法生成二维码：{exc}") from None
    return response.content


def store_oa_qrcode(store_id: int) -> bytes:
    """The store's permanent official-account QR code (scene store_<id>), as `micromall oa store-qrcode` makes it.
    https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html"""
    return _qr_image({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": store_scene(store_id)}}})


def login_qrcode(scene: str) -> bytes:
    """A temporary QR code (QR_STR_SCENE, expire_seconds) whose scan the callback turns into a console login."""
    return _qr_image({"expire_seconds": LOGIN_QR_TTL_S, "action_name": "QR_STR_SCENE",
                      "action_info": {"scene": {"scene_str": scene}}})


def store_miniprogram_code(store_id: int) -> bytes:
    """The consumer mini-program's code that opens on this store (wxa/getwxacodeunlimit: scene at most 32
    visible characters; the page must be published, without a leading slash).
    https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/qrcode-link/qr-code/getUnlimitedQRCode.html"""
    try:
        result = wechat.client("miniprogram").wxa.get_wxa_code_unlimited(f"store={store_id}",
                                                                        page="pages/index/index")
    except (WeChatClientException, RequestException) as exc:
        raise UpstreamUnavailable(f"微信暂时无法生成小程序码：{exc}") from None
    content = getattr(result, "content", result)
    if not isinstance(content, (bytes, bytearray)):
        raise UpstreamUnavailable("微信没有返回图片。")
    return bytes(content)


def push_menu(menu: dict[str, Any]) -> None:
    try:
        wechat.client("official_account").menu.create(menu)
    except (WeChatClientException, RequestException) as exc:
        raise UpstreamUnavailable(f"微信拒绝了这个菜单：{exc}") from None
