"""Mini-program codes (`wxa/getwxacodeunlimit`) of the consumer mini-program, behind one function.

The one place the staff attribution reaches WeChat for a code; when the WeChat API port lands (issue 12) this
function moves behind it unchanged. WeChat answers the image itself (JPEG) on success and a JSON errcode
otherwise (getUnlimitedQRCode: "如果调用成功，会直接返回图片二进制内容，如果请求失败，会返回 JSON 格式的数据"); any
`image/*` is taken, so the sandbox's PNG and WeChat's JPEG both pass.
"""
from __future__ import annotations

import logging

from flask import current_app
from requests import RequestException, Response
from wechatpy.exceptions import WeChatClientException

from app import wechat
from app.errors import UpstreamUnavailable
from app.wechat.clients import WECHAT_ORIGIN

log = logging.getLogger(__name__)


def unlimited_code(scene: str, page: str, width: int = 430) -> tuple[bytes, str]:
    """(image bytes, content type) of the consumer mini-program's code that opens `page` with `scene`."""
    body = {"scene": scene, "page": page, "width": width,
            # check_path false: a page of a version not yet released still gets a code (WeChat's default is true).
            "check_path": False, "env_version": "release"}
    try:
        result = wechat.client("miniprogram").post("wxa/getwxacodeunlimit", data=body,
                                                   api_base_url=f"{WECHAT_ORIGIN}/")
    except WeChatClientException as exc:
        log.error("getwxacodeunlimit refused: errcode %s", exc.errcode)
        raise UpstreamUnavailable(f"WeChat did not make the code (errcode {exc.errcode}); try again later.",
                                  {"errcode": exc.errcode}) from None
    except RequestException:
        raise UpstreamUnavailable("WeChat did not answer; try again later.") from None
    content_type = result.headers.get("Content-Type", "") if isinstance(result, Response) else ""
    if not content_type.startswith("image/") or not result.content:
        raise UpstreamUnavailable("WeChat answered something that is not an image; try again later.")
    return result.content, content_type.split(";")[0]


def code_page() -> str:
    return current_app.config["ATTRIBUTION_CODE_PAGE"]
