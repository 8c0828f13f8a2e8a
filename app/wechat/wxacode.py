"""Mini-program codes (`wxa/getwxacodeunlimit`) of the consumer mini-program, for staff and store attribution.

WeChat answers the image itself (a JPEG) on success and a JSON errcode otherwise (getUnlimitedQRCode: "如果调用成功，
会直接返回图片二进制内容，如果请求失败，会返回 JSON 格式的数据"); the port (app/wechat/port.py) turns the second into
WeChatRefused and any `image/*` into a WeChatImage.
"""
from __future__ import annotations

import logging

from flask import current_app

from app import wechat
from app.errors import UpstreamUnavailable
from app.wechat.port import WeChatError, WeChatRefused

log = logging.getLogger(__name__)


def unlimited_code(scene: str, page: str, width: int = 430) -> tuple[bytes, str]:
    """(image bytes, content type) of the consumer mini-program's code that opens `page` with `scene`."""
    try:
        # check_path false: a page of a version not yet released still gets a code (WeChat's default is true).
        image = wechat.api("miniprogram").wxacode_unlimited(scene, page=page, width=width, check_path=False)
    except WeChatRefused as exc:
        log.error("getwxacodeunlimit refused: errcode %s", exc.errcode)
        raise UpstreamUnavailable(f"WeChat did not make the code (errcode {exc.errcode}); try again later.",
                                  {"errcode": exc.errcode}) from None
    except WeChatError:
        raise UpstreamUnavailable("WeChat did not answer; try again later.") from None
    return image.content, image.content_type.split(";")[0]


def code_page() -> str:
    return current_app.config["ATTRIBUTION_CODE_PAGE"]
