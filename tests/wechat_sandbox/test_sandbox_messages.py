"""Subscribe, template and customer-service messages; user/info; the control endpoints that set their rules."""
from __future__ import annotations

import time

import pytest
from sandbox_support import MP_APPID, OA_APPID
from wechatpy.exceptions import WeChatClientException

DATA = {"thing1": {"value": "Order ready"}, "character_string2": {"value": "M20240001"}}


@pytest.fixture(autouse=True)
def templates(sandbox):
    """The templates these tests use, as a merchant would pick them in the consoles, and grants for alice and bob
    (WeChat sends nothing without one)."""
    for template_id in ("tpl-ready", "tpl-other", "tpl-oa", "t"):
        sandbox.control("templates", {"template_id": template_id, "keywords": list(DATA)})
    for openid in ("alice", "bob"):
        sandbox.control("subscriptions", {"openid": openid, "count": None})


def subscribe_message(touser="alice", template_id="tpl-ready", **extra):
    return {"touser": touser, "template_id": template_id, "page": "pages/order/detail?no=M1", "data": DATA,
            "miniprogram_state": "formal", "lang": "zh_CN", **extra}


def test_subscribe_message_through_wechatpy_is_recorded_and_delivered(sandbox, wechat_client):
    result = wechat_client(MP_APPID).wxa.send_subscribe_message("alice", "tpl-ready", DATA, page="pages/index")
    assert result["errcode"] == 0 and isinstance(result["msgid"], int)
    (record,) = sandbox.records("cgi-bin/message/subscribe/send")
    assert record["payload"]["touser"] == "alice" and record["payload"]["data"] == DATA
    inbox = sandbox.http.get(sandbox.url("/sandbox/inbox"), params={"openid": "alice"}).json()["items"]
    assert [(m["channel"], m["appid"], m["msgid"]) for m in inbox] == [("subscribe", MP_APPID, result["msgid"])]


@pytest.mark.parametrize("change, errcode", [
    ({"touser": ""}, 40003),
    ({"template_id": ""}, 40037),
    ({"data": {}}, 47003),
    ({"data": {"thing1": "no value object"}}, 47003),
    ({"miniprogram_state": "beta"}, 47003),
    ({"template_id": "not-picked"}, 40037),
    ({"data": {"thing1": {"value": "x"}}}, 47003),  # a keyword of the template is missing
    ({"data": {**DATA, "thing9": {"value": "x"}}}, 47003),  # not a keyword of the template
    ({"data": {**DATA, "thing1": {"value": ""}}}, 47003),
    ({"data": {**DATA, "thing1": {"value": "一" * 21}}}, 47003),  # thing: at most 20 characters
    ({"data": {**DATA, "character_string2": {"value": "订单M1"}}}, 47003),  # character_string: ASCII only
    ({"data": {**DATA, "character_string2": {"value": "x" * 33}}}, 47003),
])
def test_subscribe_message_validation(sandbox, change, errcode):
    assert sandbox.call("/cgi-bin/message/subscribe/send", subscribe_message(**change))["errcode"] == errcode


@pytest.mark.parametrize("keyword, value, errcode", [
    ("phrase3", "待取货", 0), ("phrase3", "ready", 47003), ("phrase3", "六个汉字不行", 47003),
    ("amount4", "¥12.50", 0), ("amount4", "12.5元", 0), ("amount4", "about 12", 47003),
    ("time5", "2026年12月01日 15:01", 0), ("time5", "2026-12-01 15:01", 0), ("time5", "soon", 47003),
    ("date6", "2026年12月01日", 0), ("date6", "tomorrow", 47003), ("number7", "12.5", 0), ("number7", "1a", 47003),
])
def test_keyword_value_rules(sandbox, keyword, value, errcode):
    sandbox.control("templates", {"template_id": "tpl-typed", "keywords": [keyword]})
    body = subscribe_message(template_id="tpl-typed", data={keyword: {"value": value}})
    result = sandbox.call("/cgi-bin/message/subscribe/send", body)
    assert result["errcode"] == errcode
    if errcode:
        assert f"data.{keyword}.value" in result["errmsg"]


def test_a_send_needs_a_grant_and_spends_it(sandbox, wechat_client):
    client = wechat_client(MP_APPID)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.send_subscribe_message("gina", "tpl-ready", DATA)
    assert error.value.errcode == 43101  # never accepted
    accepted = sandbox.control("subscriptions/accept", {"openid": "gina", "template_ids": ["tpl-ready", "tpl-other"]})
    assert accepted == {"errMsg": "requestSubscribeMessage:ok", "tpl-ready": "accept", "tpl-other": "accept"}
    client.wxa.send_subscribe_message("gina", "tpl-ready", DATA)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.send_subscribe_message("gina", "tpl-ready", DATA)  # one accept, one message
    assert error.value.errcode == 43101
    client.wxa.send_subscribe_message("gina", "tpl-other", DATA)
    too_many = sandbox.http.post(sandbox.url("/sandbox/subscriptions/accept"),
                                 json={"openid": "gina", "template_ids": ["a", "b", "c", "d"]})
    assert too_many.status_code == 400  # wx.requestSubscribeMessage shows at most three


def test_quota_is_spent_then_43101(sandbox, wechat_client):
    sandbox.control("subscriptions", {"openid": "alice", "template_id": "tpl-ready", "count": 1})
    client = wechat_client(MP_APPID)
    client.wxa.send_subscribe_message("alice", "tpl-ready", DATA)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.send_subscribe_message("alice", "tpl-ready", DATA)
    assert error.value.errcode == 43101
    # Other templates and other users are not limited.
    client.wxa.send_subscribe_message("alice", "tpl-other", DATA)
    client.wxa.send_subscribe_message("bob", "tpl-ready", DATA)
    sandbox.control("subscriptions", {"openid": "alice", "template_id": "tpl-ready", "count": None})
    client.wxa.send_subscribe_message("alice", "tpl-ready", DATA)


def test_refused_user_gets_nothing(sandbox):
    sandbox.control("subscriptions/refuse", {"openid": "carol"})
    body = sandbox.call("/cgi-bin/message/subscribe/send", subscribe_message(touser="carol"))
    assert body["errcode"] == 43101
    assert body["errmsg"].startswith("user refuse to accept the msg")
    assert sandbox.http.get(sandbox.url("/sandbox/inbox"), params={"openid": "carol"}).json()["items"] == []


def test_template_message_needs_a_follower(sandbox, wechat_client):
    client = wechat_client(OA_APPID)
    with pytest.raises(WeChatClientException) as error:
        client.message.send_template("oa-alice", "tpl-oa", DATA, url="https://example.com/o/1")
    assert error.value.errcode == 43004
    sandbox.control("followers", {"openid": "oa-alice"})
    result = client.message.send_template("oa-alice", "tpl-oa", DATA,
                                           mini_program={"appid": MP_APPID, "pagepath": "pages/index"})
    assert result["errcode"] == 0 and result["msgid"]
    bad = sandbox.call("/cgi-bin/message/template/send", {"touser": "oa-alice", "template_id": "t", "data": DATA,
                                                           "miniprogram": {"pagepath": "x"}}, appid=OA_APPID)
    assert bad["errcode"] == 40166


def test_custom_message_needs_an_interaction_within_48_hours(sandbox, wechat_client):
    client = wechat_client(OA_APPID)
    with pytest.raises(WeChatClientException) as error:
        client.message.send_text("oa-bob", "hello")
    assert error.value.errcode == 45015
    sandbox.control("followers", {"openid": "oa-bob", "interacted_at": time.time() - 49 * 3600})
    with pytest.raises(WeChatClientException):
        client.message.send_text("oa-bob", "hello")
    sandbox.control("followers", {"openid": "oa-bob"})  # interacted just now
    assert client.message.send_text("oa-bob", "hello")["errcode"] == 0
    sandbox.control("followers", {"openid": "oa-bob", "subscribe": 0})
    with pytest.raises(WeChatClientException):
        client.message.send_text("oa-bob", "hello")


@pytest.mark.parametrize("body, errcode", [
    ({"touser": "oa-bob", "msgtype": "telegram", "telegram": {}}, 40008),
    ({"touser": "oa-bob", "msgtype": "text", "text": {}}, 44004),
    ({"touser": "oa-bob", "msgtype": "image", "image": {}}, 47001),
    ({"touser": "o b", "msgtype": "text", "text": {"content": "x"}}, 40003),
])
def test_custom_message_validation(sandbox, body, errcode):
    sandbox.control("followers", {"openid": "oa-bob"})
    assert sandbox.call("/cgi-bin/message/custom/send", body, appid=OA_APPID)["errcode"] == errcode


def test_user_info_has_no_unionid_unless_the_apps_share_an_open_platform_account(sandbox, wechat_client):
    sandbox.control("followers", {"openid": "oa-hana"})
    assert "unionid" not in wechat_client(OA_APPID).user.get("oa-hana")


def test_user_info_of_a_follower_carries_the_registered_unionid(sandbox, wechat_client):
    sandbox.control("open-platform", {"bound": True})
    sandbox.control("people", {"unionid": "union-erin", "miniprogram_openid": "mp-erin",
                               "official_account_openid": "oa-erin"})
    client = wechat_client(OA_APPID)
    assert client.user.get("oa-erin") == {"subscribe": 0, "openid": "oa-erin"}
    sandbox.control("followers", {"openid": "oa-erin", "scene": "store-7"})
    info = client.user.get("oa-erin")
    assert info["subscribe"] == 1 and info["unionid"] == "union-erin"
    assert info["subscribe_scene"] == "ADD_SCENE_QR_CODE" and info["qr_scene_str"] == "store-7"
    assert abs(info["subscribe_time"] - time.time()) < 5
    sandbox.control("followers", {"openid": "oa-frank", "scene": "42"})
    assert client.user.get("oa-frank")["unionid"] == "sandbox-union-oa-frank"
    assert client.user.get("oa-frank")["qr_scene"] == 42
    assert sandbox.call("/cgi-bin/user/info", appid=OA_APPID, openid="bad openid!")["errcode"] == 40003


def test_failure_injection_on_a_send(sandbox):
    sandbox.control("failures", {"path": "cgi-bin/message/subscribe/send", "errcode": 45009, "times": 1})
    first = sandbox.call("/cgi-bin/message/subscribe/send", subscribe_message())
    assert first["errcode"] == 45009 and first["errmsg"].startswith("reach max api daily quota limit")
    assert sandbox.call("/cgi-bin/message/subscribe/send", subscribe_message())["errcode"] == 0
    assert len(sandbox.records("cgi-bin/message/subscribe/send")) == 2


@pytest.mark.parametrize("path, body", [
    ("people", {"unionid": "u"}),
    ("people", {"miniprogram_openid": "a"}),
    ("followers", {"openid": "a b"}),
    ("followers", {"openid": "a", "subscribe": 2}),
    ("subscriptions", {"openid": "a"}),
    ("subscriptions", {"openid": "a", "count": -1}),
    ("failures", {"path": "cgi-bin/token"}),
    ("tokens/expire", {"appid": 5}),
    ("subscriptions/accept", {"openid": "a", "template_ids": []}),
    ("templates", {"template_id": "t", "keywords": []}),
    ("open-platform", {"bound": "yes"}),
    ("shipping/ready", {"after_s": -1}),
])
def test_control_rejects_bad_requests(sandbox, path, body):
    response = sandbox.http.post(sandbox.url("/sandbox/" + path), json=body)
    assert response.status_code == 400 and response.json()["error"]


def test_reset_forgets_everything(sandbox):
    sandbox.control("followers", {"openid": "oa-alice"})
    token = sandbox.token(OA_APPID)
    sandbox.control("reset")
    assert sandbox.records("cgi-bin/token") == []
    body = sandbox.http.get(sandbox.url("/cgi-bin/user/info"), params={"openid": "oa-alice", "access_token": token})
    assert body.json()["errcode"] == 40001
    assert sandbox.call("/cgi-bin/user/info", appid=OA_APPID, openid="oa-alice")["subscribe"] == 0
