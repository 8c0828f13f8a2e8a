"""The console's few calls to WeChat, in one place, through the WeChat API port (app/wechat/port.py): temporary
and permanent official-account QR codes, the store's mini-program code and the menu. Every image comes back as
WeChat sent it (a JPEG on WeChat: showqrcode answers `image/jpg`), with its content type."""
from __future__ import annotations

from typing import Any

from app import wechat
from app.attribution import scenes
from app.errors import UpstreamUnavailable
from app.followers.service import store_scene
from app.uow import commit_before_calling_wechat
from app.wechat.port import WeChatError, WeChatImage
from app.wechat.wxacode import code_page, unlimited_code

# A QR code's login lifetime: long enough to find the phone, short enough that a photo of it is soon worthless.
LOGIN_QR_TTL_S = 300


def _qr_image(scene: str, expire_seconds: int | None = None) -> WeChatImage:
    api = wechat.api("official_account")
    try:
        return api.qrcode_image(api.create_qrcode(scene, expire_seconds=expire_seconds)["ticket"])
    except (WeChatError, KeyError) as exc:
        raise UpstreamUnavailable(f"微信暂时无法生成二维码：{exc}") from None


def store_oa_qrcode(store_id: int) -> WeChatImage:
    """The store's permanent official-account QR code (scene store_<id>), as `micromall oa store-qrcode` makes it.
    https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html"""
    return _qr_image(store_scene(store_id))


def login_qrcode(scene: str) -> WeChatImage:
    """A temporary QR code (QR_STR_SCENE, expire_seconds) whose scan the callback turns into a console login."""
    return _qr_image(scene, expire_seconds=LOGIN_QR_TTL_S)


def store_miniprogram_code(store_id: int) -> WeChatImage:
    """The store's counter code: the consumer mini-program opened with the store's attribution scene, the same
    code `micromall store code` writes (app/attribution/scenes.py)."""
    scene = scenes.current_scene(store_id).scene
    commit_before_calling_wechat()  # a scene made just now is kept, whatever WeChat answers
    content, content_type = unlimited_code(scene, code_page())
    return WeChatImage(content, content_type)


def push_menu(menu: dict[str, Any]) -> None:
    try:
        wechat.api("official_account").create_menu(menu)
    except WeChatError as exc:
        raise UpstreamUnavailable(f"微信拒绝了这个菜单：{exc}") from None
