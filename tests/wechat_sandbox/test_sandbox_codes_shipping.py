"""Menus, QR codes, mini-program codes (JPEGs, as WeChat sends), shipping uploads and their 1006xxxx codes."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sandbox_support import MP_APPID, OA_APPID
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from wechat_sandbox import jpeg, png
from wechat_sandbox.pay_v3_common import pay_area

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"
MENU = {"button": [
    {"type": "click", "name": "今日推荐", "key": "TODAY"},
    {"type": "miniprogram", "name": "下单", "url": "https://example.com", "appid": MP_APPID,
     "pagepath": "pages/index/index"},
    {"name": "更多", "sub_button": [{"type": "view", "name": "门店", "url": "https://example.com/stores"},
                                   {"type": "location_select", "name": "发送位置", "key": "LOC"}]},
]}


def test_menu_is_accepted_through_wechatpy(sandbox, wechat_client):
    assert wechat_client(OA_APPID).menu.create(MENU)["errcode"] == 0
    assert sandbox.records("cgi-bin/menu/create")[0]["payload"] == MENU


def _menu_with(button):
    return {"button": [button]}


@pytest.mark.parametrize("menu, errcode", [
    ({"button": []}, 40016),
    ({"button": [{"type": "click", "name": "a", "key": "k"}] * 4}, 40016),
    (_menu_with({"type": "dance", "name": "a"}), 40017),
    (_menu_with({"type": "click", "name": "名字太长了太长了太长了"}), 40018),
    (_menu_with({"type": "click", "name": "a"}), 40019),
    (_menu_with({"type": "view", "name": "a"}), 40020),
    (_menu_with({"name": "a", "sub_button": [{"type": "click", "name": "b", "key": "k"}] * 6}), 40023),
    (_menu_with({"name": "a", "sub_button": [{"type": "dance", "name": "b"}]}), 40024),
    (_menu_with({"name": "a", "sub_button": [{"type": "view", "name": "b"}]}), 40027),
    (_menu_with({"name": "a", "sub_button": [{"name": "b", "sub_button": [{"type": "click", "name": "c"}]}]}), 40022),
    (_menu_with({"type": "miniprogram", "name": "a", "url": "https://x", "pagepath": "p"}), 40166),
    (_menu_with({"type": "miniprogram", "name": "a", "url": "https://x", "appid": MP_APPID}), 40165),
])
def test_menu_validation(sandbox, menu, errcode):
    assert sandbox.call("/cgi-bin/menu/create", menu, appid=OA_APPID)["errcode"] == errcode


def test_temporary_qrcode_and_its_image(sandbox, wechat_client):
    client = wechat_client(OA_APPID)
    created = client.qrcode.create({"expire_seconds": 600, "action_name": "QR_STR_SCENE",
                                    "action_info": {"scene": {"scene_str": "store-3"}}})
    assert set(created) == {"ticket", "expire_seconds", "url"} and created["expire_seconds"] == 600
    # wechatpy builds the showqrcode URL itself, quoting the base64 ticket.
    image_url = WeChatClient.qrcode.get_url(created["ticket"])
    response = sandbox.http.get(sandbox.url(image_url[len("https://mp.weixin.qq.com"):]))
    # mp.weixin.qq.com answers a JPEG with its own content type, image/jpg.
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpg"
    assert response.content.startswith(JPEG_SOI)
    assert jpeg.read_text(response.content) == {"Content": created["url"]}


def test_permanent_qrcode_and_unknown_or_expired_tickets(sandbox, wechat_client):
    client = wechat_client(OA_APPID)
    created = client.qrcode.create({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 7}}})
    assert set(created) == {"ticket", "url"}
    temporary = client.qrcode.create({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 8}}})
    assert temporary["expire_seconds"] == 60
    qrcodes = sandbox.app.extensions["sandbox_state"].area("weixin")["qrcodes"]
    qrcodes[temporary["ticket"]]["expires_at"] = time.time() - 1
    show = sandbox.url("/cgi-bin/showqrcode")
    assert sandbox.http.get(show, params={"ticket": created["ticket"]}).status_code == 200
    assert sandbox.http.get(show, params={"ticket": temporary["ticket"]}).status_code == 404
    assert sandbox.http.get(show, params={"ticket": "nope"}).status_code == 404


@pytest.mark.parametrize("body", [
    {"action_name": "QR_FOREVER", "action_info": {"scene": {"scene_id": 1}}},
    {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100001}}},
    {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "x" * 65}}},
    {"action_name": "QR_STR_SCENE", "action_info": {}},
])
def test_qrcode_validation(sandbox, body):
    assert sandbox.call("/cgi-bin/qrcode/create", body, appid=OA_APPID)["errcode"] == 40053


def test_wxacode_is_a_jpeg_carrying_page_and_scene(sandbox, wechat_client):
    response = wechat_client(MP_APPID).wxa.get_wxa_code_unlimited("o=M20240001", page="pages/pickup/index")
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content.startswith(JPEG_SOI) and response.content.endswith(b"\xff\xd9")
    content = json.loads(jpeg.read_text(response.content)["Content"])
    assert content == {"appid": MP_APPID, "page": "pages/pickup/index", "scene": "o=M20240001",
                       "env_version": "release"}


@pytest.mark.parametrize("body, errcode", [
    ({"scene": "x" * 33}, 40169),
    ({"scene": ""}, 40169),
    ({"scene": "a b"}, 40169),
    ({"scene": "ok", "page": "/pages/index"}, 41030),
    ({"scene": "ok", "env_version": "beta"}, 47001),
])
def test_wxacode_errors_are_json(sandbox, body, errcode):
    assert sandbox.call("/wxa/getwxacodeunlimit", body)["errcode"] == errcode


def test_wxacode_error_reaches_wechatpy_as_an_exception(sandbox, wechat_client):
    with pytest.raises(WeChatClientException) as error:
        wechat_client(MP_APPID).wxa.get_wxa_code_unlimited("x" * 33)
    assert error.value.errcode == 40169


def test_png_is_well_formed():
    image = png.code_image("hello", width=300)
    assert image.startswith(PNG_SIGNATURE) and image.endswith(b"IEND\xaeB`\x82")
    assert png.code_image("hello", 300) == image and png.code_image("other", 300) != image
    with pytest.raises(ValueError):
        png.read_text(b"GIF89a")


def paid_payment(sandbox, out_trade_no="M20240001", transaction_id="4200000000202405010000000001", openid="alice",
                 paid_ago_s=120.0, trade_state="SUCCESS"):
    """A payment as the sandbox's WeChat Pay holds it once paid `paid_ago_s` seconds ago."""
    paid_at = datetime.fromtimestamp(time.time() - paid_ago_s, timezone(timedelta(hours=8)))
    st = sandbox.app.extensions["sandbox_state"]
    with st.lock:
        pay_area(st)["orders"][out_trade_no] = {
            "appid": MP_APPID, "mchid": "1900000001", "out_trade_no": out_trade_no, "description": "Coffee",
            "total": 100, "payer_total": 100, "openid": openid, "trade_state": trade_state,
            "transaction_id": transaction_id, "success_time": paid_at.isoformat(timespec="seconds"),
            "created_at": time.time() - paid_ago_s - 10}


def shipping(**change):
    body = {
        "order_key": {"order_number_type": 1, "mchid": "1900000001", "out_trade_no": "M20240001"},
        "logistics_type": 4, "delivery_mode": 1,
        "shipping_list": [{"item_desc": "Coffee beans x1"}],
        "upload_time": "2024-05-01T10:30:00.120+08:00",
        "payer": {"openid": "alice"},
    }
    body.update(change)
    return body


@pytest.mark.parametrize("body", [
    shipping(),
    shipping(order_key={"order_number_type": 2, "transaction_id": "4200000000202405010000000001"}),
    shipping(delivery_mode="UNIFIED_DELIVERY", upload_time="2024-05-01T02:30:00Z"),
    shipping(logistics_type=1, shipping_list=[{"item_desc": "x", "tracking_no": "SF1", "express_company": "SF",
                                               "contact": {"receiver_contact": "138****0000"}}]),
    shipping(delivery_mode=2, is_all_delivered=True,
             shipping_list=[{"item_desc": "a"}, {"item_desc": "b"}]),
])
def test_shipping_upload_accepted(sandbox, body):
    paid_payment(sandbox)
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", body) == {"errcode": 0, "errmsg": "ok"}
    assert sandbox.records("wxa/sec/order/upload_shipping_info")[0]["payload"] == body


@pytest.mark.parametrize("body, errcode", [
    (shipping(order_key={"order_number_type": 1, "out_trade_no": "M1"}), 47001),
    (shipping(order_key={"order_number_type": 2}), 47001),
    (shipping(order_key={"order_number_type": 3}), 47001),
    (shipping(logistics_type=5), 47001),
    (shipping(delivery_mode=3), 47001),
    (shipping(delivery_mode=2, shipping_list=[{"item_desc": "a"}]), 47001),
    (shipping(shipping_list={"item_desc": "not an array"}), 47001),
    (shipping(shipping_list=[{"item_desc": "a"}, {"item_desc": "b"}]), 47001),
    (shipping(shipping_list=[{}]), 47001),
    (shipping(logistics_type=1), 47001),
    (shipping(logistics_type=1, shipping_list=[{"item_desc": "x", "tracking_no": "1", "express_company": "SF"}]),
     47001),
    (shipping(upload_time="2024-05-01 10:30:00"), 268485216),
    (shipping(upload_time="2024-05-01T10:30:00.120 08:00"), 268485216),
    (shipping(upload_time="2024-13-01T10:30:00+08:00"), 268485216),
    (shipping(payer={}), 47001),
])
def test_shipping_upload_validation(sandbox, body, errcode):
    paid_payment(sandbox)
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", body)["errcode"] == errcode


def test_shipping_codes_for_unknown_fresh_refunded_and_foreign_payments(sandbox):
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())["errcode"] == 10060001  # unknown
    paid_payment(sandbox, paid_ago_s=5)
    # WeChat's shipping service learns of a payment a while after it is paid.
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())["errcode"] == 10060001
    sandbox.control("shipping/ready", {"after_s": 0})
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping(payer={"openid": "bob"}))["errcode"] \
        == 10060031
    paid_payment(sandbox, trade_state="REFUND")
    refused = sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())
    assert refused["errcode"] == 10060004 and refused["errmsg"].startswith("支付单处于不可发货的状态")


def test_one_reupload_then_10060003_and_get_order_tells_the_state(sandbox):
    paid_payment(sandbox)
    key = {"transaction_id": "4200000000202405010000000001"}
    assert sandbox.call("/wxa/sec/order/get_order", key)["order"]["order_state"] == 1  # waiting for shipment
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())["errcode"] == 0
    order = sandbox.call("/wxa/sec/order/get_order", {"merchant_id": "1900000001",
                                                      "merchant_trade_no": "M20240001"})["order"]
    assert order["order_state"] == 2 and order["shipping"]["logistics_type"] == 4
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())["errcode"] == 0  # the one re-upload
    assert sandbox.call("/wxa/sec/order/upload_shipping_info", shipping())["errcode"] == 10060003
    assert sandbox.call("/wxa/sec/order/get_order", {"transaction_id": "nope"})["errcode"] == 10060001
    assert sandbox.call("/wxa/sec/order/get_order", {})["errcode"] == 47001


def test_jpeg_is_well_formed():
    image = jpeg.code_image("hello", width=300)
    assert image.startswith(JPEG_SOI) and image.endswith(b"\xff\xd9")
    assert jpeg.code_image("hello", 300) == image and jpeg.code_image("other", 300) != image
    assert jpeg.read_text(image) == {"Content": "hello"}
    with pytest.raises(ValueError):
        jpeg.read_text(b"GIF89a")
