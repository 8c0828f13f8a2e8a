"""The WeChat API port: wechatpy stays behind the adapter, every call has a timeout, errcodes become port errors,
and images come back with their real type."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import requests

from app import wechat
from app.wechat.port import NoGrant, WeChatImage, WeChatRateLimited, WeChatRefused, WeChatUnavailable, error_for

APP = Path(__file__).resolve().parents[2] / "app"


def test_no_module_of_the_domain_imports_wechatpy():
    offenders = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "wechatpy" or name.startswith("wechatpy.") for name in names):
                offenders.append(str(path.relative_to(APP.parent)))
    assert offenders == []


@pytest.mark.parametrize("errcode, kind", [(-1, WeChatUnavailable), (45009, WeChatRateLimited),
                                           (45011, WeChatRateLimited), (43101, NoGrant), (47003, WeChatRefused)])
def test_errcodes_become_port_errors(errcode, kind):
    error = error_for(errcode, "msg", "path")
    assert type(error) is kind and error.errcode == errcode


def test_image_extension_follows_the_content_type():
    assert WeChatImage(b"", "image/jpg").extension == "jpg"
    assert WeChatImage(b"", "image/jpeg; charset=binary").extension == "jpg"
    assert WeChatImage(b"", "image/png").extension == "png"


def test_every_call_has_a_timeout_and_a_network_error_is_unavailable(app_ctx, monkeypatch):
    api = wechat.api("miniprogram")
    seen = []

    def refuse(self, method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        raise requests.ConnectTimeout("no route")

    monkeypatch.setattr(requests.Session, "request", refuse)
    with pytest.raises(WeChatUnavailable):
        api.code_to_session("sandbox-x")
    with pytest.raises(WeChatUnavailable):
        api.phone_number("sandbox-phone-13800000000")  # the token fetch fails first
    assert seen and all(timeout for timeout in seen)


def test_a_40001_is_retried_once_with_a_renewed_token(app_ctx, sandbox):
    api = wechat.api("miniprogram")
    assert api.phone_number("sandbox-phone-13800000010") == "13800000010"
    requests.post(f"{sandbox.base_url}/sandbox/tokens/revoke", json={}, timeout=5).raise_for_status()
    assert api.phone_number("sandbox-phone-13800000011") == "13800000011"
    fetches = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "cgi-bin/stable_token"},
                           timeout=5).json()["items"]
    assert len(fetches) == 2 and not any(f["payload"].get("force_refresh") for f in fetches)
    # 30 refusals in a row: one retry, no storm of fetches.
    requests.post(f"{sandbox.base_url}/sandbox/failures", json={"path": "wxa/business/getuserphonenumber",
                                                                "errcode": 40001, "times": 30}, timeout=5)
    with pytest.raises(WeChatRefused) as error:
        api.phone_number("sandbox-phone-13800000012")
    assert error.value.errcode == 40001
    fetches = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "cgi-bin/stable_token"},
                           timeout=5).json()["items"]
    assert len(fetches) <= 4


def test_qr_images_and_their_json_errors(app_ctx, sandbox):
    oa, mp = wechat.api("official_account"), wechat.api("miniprogram")
    created = oa.create_qrcode("login_abc", expire_seconds=300)
    assert created["expire_seconds"] == 300
    image = oa.qrcode_image(created["ticket"])
    assert image.content_type == "image/jpg" and image.extension == "jpg"
    code = mp.wxacode_unlimited("s=1", page="pages/index/index", check_path=False)
    assert code.content_type == "image/jpeg" and code.content.startswith(b"\xff\xd8")
    with pytest.raises(WeChatRefused) as error:
        mp.wxacode_unlimited("x" * 33)
    assert error.value.errcode == 40169
