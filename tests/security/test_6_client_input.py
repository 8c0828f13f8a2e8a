"""Finding 6 (and issue 13 point 6): client input answers 4xx with the error envelope, never a 500."""
import json
import time

import pytest
import requests

from app.models import Customer
from tests.official_account.conftest import CALLBACK
from wechat_sandbox.follower import FollowerSimulator, sign
from wechat_sandbox.server import serve_in_thread


def envelope_code(response) -> str:
    return response.get_json()["error"]["code"]


def test_deeply_nested_json_on_unauthenticated_login_is_400(client):
    for body in ("[" * 50_000, '{"code": ' + "[" * 20_000 + "]" * 20_000 + "}", '{"a":' * 5000 + "1" + "}" * 5000):
        response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
        assert response.status_code == 400, response.get_data(as_text=True)[:200]
        assert envelope_code(response) == "invalid_request"


@pytest.mark.parametrize("body", ['{"code": "\\ud800"}', '{"code": "ok\\udfff"}', '{"\\ud800": 1, "code": "x"}'])
def test_lone_surrogates_in_json_strings_are_400(client, body):
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400 and envelope_code(response) == "invalid_request"


def test_lone_surrogate_in_an_authenticated_order_remark_is_400_and_writes_nothing(client, app_ctx, shop):
    from tests import factories

    headers = factories.login(client)
    body = ('{"store_id": %d, "items": [{"sku_id": %d, "quantity": 1}], "remark": "\\ud83d"}'
            % (shop.store_id, shop.sku_id))
    response = client.post("/api/v1/orders", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400 and envelope_code(response) == "invalid_request"


def test_a_chunked_body_over_the_cap_is_413_not_400(app):
    server = serve_in_thread(app)
    try:
        def chunks():  # no Content-Length: requests sends a generator chunked
            for _ in range(100):
                yield b'{"code": "' + b"a" * 1000
        response = requests.post(server.base_url + "/api/v1/auth/login", data=chunks(),
                                 headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        small = requests.post(server.base_url + "/api/v1/auth/login", data=iter([b'{"code": ', b'"sandbox-c1"}']),
                              headers={"Content-Type": "application/json"}, timeout=10)
        assert small.status_code == 200  # a small chunked body still works
    finally:
        server.stop()


def test_a_superscript_two_wechatpay_timestamp_is_refused_not_500(client, app_ctx, live, notifier, placed):
    body = notifier.body(notifier.resource(placed.order_no, placed.total_fen))
    headers = {"Content-Type": "application/json", "Wechatpay-Timestamp": "²", "Wechatpay-Nonce": "n",
               "Wechatpay-Serial": app_ctx.config["WECHATPAY_PUBLIC_KEY_ID"], "Wechatpay-Signature": "c2ln"}
    response = requests.post(live.base_url + "/payments/wechatpay/notify", data=body, headers=headers, timeout=10)
    assert 400 <= response.status_code < 500 and response.json()["code"] == "FAIL"


@pytest.fixture
def oa(app, sandbox):
    server = serve_in_thread(app)
    config = app.config
    sim = FollowerSimulator(server.base_url + CALLBACK, config["OFFICIAL_ACCOUNT_TOKEN"],
                            config["OFFICIAL_ACCOUNT_APPID"], config["OFFICIAL_ACCOUNT_AES_KEY"],
                            sandbox_url=sandbox.base_url)
    yield server, sim
    sim.close()
    server.stop()


def test_a_superscript_two_callback_timestamp_is_403(app_ctx, oa):
    server, _ = oa
    token = app_ctx.config["OFFICIAL_ACCOUNT_TOKEN"]
    params = {"signature": sign(token, "²", "1"), "timestamp": "²", "nonce": "1", "echostr": "x"}
    assert requests.get(server.base_url + CALLBACK, params=params, timeout=5).status_code == 403


def test_an_element_inside_content_is_400(app_ctx, oa):
    _, sim = oa
    message = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-el</FromUserName><CreateTime>%d</CreateTime>"
               "<MsgType>text</MsgType><Content><b>门店</b></Content><MsgId>7</MsgId></xml>" % time.time())
    assert sim.send_raw(message).status == 400


def test_a_follower_may_write_doctype_in_a_text(app_ctx, oa):
    """The declaration check is the parser's (defusedxml), not a substring search of the body."""
    _, sim = oa
    result = sim.send_text("o-doc", '<!DOCTYPE html> <!ENTITY x "y"> 你好')
    assert result.status == 200 and result.reply["MsgType"] == "text"


def test_nested_json_was_never_half_written(client, app_ctx):
    client.post("/api/v1/auth/login", data=json.dumps({"code": "sandbox-zed"})[:-1] + "[" * 3000,
                content_type="application/json")
    from app.extensions import db

    assert db.session.query(Customer).count() == 0
