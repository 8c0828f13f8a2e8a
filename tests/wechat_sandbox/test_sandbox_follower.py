"""The FollowerSimulator against a small official-account callback built on wechatpy's own checks."""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterator

import pytest
from flask import Flask, abort, request
from sandbox_support import OA_AES_KEY, OA_APPID, OA_TOKEN
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from wechat_sandbox.follower import FollowerSimulator, ReplyError
from wechat_sandbox.server import serve_in_thread

REPLAY_WINDOW_S = 300


def callback_app(aes_key: str | None, received: list[Any], options: dict[str, Any]) -> Flask:
    """Verifies like a real callback; `options` bends its reply (bad signature, plaintext) and adds a hook that
    runs on subscribe (e.g. a user/info lookup)."""
    app = Flask("callback")
    crypto = WeChatCrypto(OA_TOKEN, aes_key, OA_APPID) if aes_key else None

    @app.route("/wechat", methods=["GET", "POST"])
    def wechat() -> str:
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        try:
            check_signature(OA_TOKEN, request.args.get("signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            abort(403)
        if abs(time.time() - int(timestamp)) > REPLAY_WINDOW_S:
            abort(403)
        if request.method == "GET":
            return request.args["echostr"]
        body = request.get_data()
        if crypto:
            if request.args.get("encrypt_type") != "aes":
                abort(400)
            try:
                body = crypto.decrypt_message(body, request.args.get("msg_signature", ""), timestamp, nonce)
            except InvalidSignatureException:
                abort(403)
        message = parse_message(body)
        received.append((dict(request.args), message))
        if message.type == "text":
            text = f"echo: {message.content}"
        elif message.type == "event" and message.event in ("subscribe", "subscribe_scan"):
            text = f"welcome {options['on_subscribe'](message.source) if 'on_subscribe' in options else ''}"
        else:
            return "success"
        reply = create_reply(text, message).render()
        if not crypto or options.get("plaintext_reply"):
            return reply
        encrypted = crypto.encrypt_message(reply, nonce, timestamp)
        if options.get("bad_reply_signature"):
            encrypted = re.sub(r"<MsgSignature><!\[CDATA\[\w+", "<MsgSignature><![CDATA[" + "0" * 40, encrypted)
        return encrypted

    return app


@pytest.fixture(params=[None, OA_AES_KEY], ids=["plaintext", "safe-mode"])
def aes_key(request: pytest.FixtureRequest) -> str | None:
    return request.param


@pytest.fixture
def callback(aes_key: str | None) -> Iterator[tuple[str, list[Any], dict[str, Any]]]:
    received: list[Any] = []
    options: dict[str, Any] = {}
    server = serve_in_thread(callback_app(aes_key, received, options))
    yield server.base_url + "/wechat", received, options
    server.stop()


@pytest.fixture
def follower(callback, aes_key) -> Iterator[Callable[..., FollowerSimulator]]:
    simulators: list[FollowerSimulator] = []

    def make(**kwargs: Any) -> FollowerSimulator:
        simulator = FollowerSimulator(callback[0], OA_TOKEN, OA_APPID, aes_key, **kwargs)
        simulators.append(simulator)
        return simulator

    yield make
    for simulator in simulators:
        simulator.close()


def test_verify_url_echoes_only_with_a_good_signature(follower):
    simulator = follower()
    good = simulator.verify_url("echo-123")
    assert (good.status, good.text) == (200, "echo-123")
    assert simulator.verify_url("echo-123", forge_signature=True).status == 403


def test_text_message_and_reply(follower, callback, aes_key):
    result = follower().send_text("oa-alice", "hi there", msg_id=1234567890123456)
    assert result.status == 200
    assert result.reply["MsgType"] == "text" and result.reply["Content"] == "echo: hi there"
    assert result.reply["ToUserName"] == "oa-alice" and result.reply["FromUserName"] == "gh_sandbox000001"
    query, message = callback[1][0]
    assert message.type == "text" and message.source == "oa-alice" and message.id == 1234567890123456
    assert query["openid"] == "oa-alice"
    assert ("encrypt_type" in query) == (aes_key is not None)
    if aes_key:
        assert b"<Encrypt>" in result.body and "hi there" not in result.text


def test_events_arrive_as_wechat_sends_them(follower, callback):
    simulator = follower()
    subscribed = simulator.subscribe("oa-bob", scene="store-9", ticket="TICKET")
    assert subscribed.reply["Content"] == "welcome "
    assert simulator.scan("oa-bob", "store-9").reply is None  # "success"
    simulator.click("oa-bob", "TODAY")
    simulator.location_event("oa-bob", 31.2304, 121.4737, precision=65.0)
    simulator.send_location("oa-bob", 31.2304, 121.4737, label="People's Square")
    simulator.unsubscribe("oa-bob")
    messages = [message for _, message in callback[1]]
    assert [(m.type, getattr(m, "event", None)) for m in messages] == [
        ("event", "subscribe_scan"), ("event", "scan"), ("event", "click"), ("event", "location"),
        ("location", None), ("event", "unsubscribe")]
    assert messages[0].scene_id == "store-9" and messages[0].ticket == "TICKET"
    assert messages[1].scene_id == "store-9"
    assert messages[2].key == "TODAY"
    assert (messages[3].latitude, messages[3].longitude, messages[3].precision) == (31.2304, 121.4737, 65.0)
    assert tuple(map(float, messages[4].location)) == (31.2304, 121.4737)
    assert messages[4].label == "People's Square"


def test_forged_and_stale_requests_are_refused(follower, callback):
    simulator = follower()
    assert simulator.send_text("oa-carol", "x", forge_signature=True).status == 403
    assert simulator.send_text("oa-carol", "x", timestamp=int(time.time()) - 3600).status == 403
    assert callback[1] == []


@pytest.mark.parametrize("aes_key", [OA_AES_KEY], ids=["safe-mode"])
def test_safe_mode_reply_must_verify(follower, callback):
    simulator = follower()
    callback[2]["bad_reply_signature"] = True
    with pytest.raises(ReplyError, match="MsgSignature"):
        simulator.send_text("oa-dan", "x")
    callback[2].clear()
    callback[2]["plaintext_reply"] = True
    with pytest.raises(ReplyError, match="encrypted") as error:
        simulator.send_text("oa-dan", "x")
    assert error.value.result.status == 200
    assert simulator.send_raw("<xml><MsgType>text</MsgType></xml>", encrypt=False).status == 400


def test_crypto_round_trip_and_key_check():
    simulator = FollowerSimulator("http://127.0.0.1:9/none", OA_TOKEN, OA_APPID, OA_AES_KEY)
    ciphertext = simulator.encrypt("<xml>你好</xml>")
    assert simulator.decrypt(ciphertext) == "<xml>你好</xml>"
    with pytest.raises(ValueError, match="appid"):
        simulator.decrypt(simulator.encrypt("<xml/>", appid="wxsomeoneelse"))
    simulator.close()
    with pytest.raises(ValueError):
        FollowerSimulator("http://127.0.0.1:9/none", OA_TOKEN, OA_APPID, "short")


def test_subscribing_follower_is_known_to_user_info(sandbox, wechat_client, follower, callback):
    sandbox.control("open-platform", {"bound": True})
    sandbox.control("people", {"unionid": "union-erin", "miniprogram_openid": "mp-erin",
                               "official_account_openid": "oa-erin"})
    client = wechat_client(OA_APPID)
    # The callback asks user/info while handling the subscribe event, as a project would.
    callback[2]["on_subscribe"] = lambda openid: client.user.get(openid)["unionid"]
    simulator = follower(sandbox_url=sandbox.base_url)
    assert simulator.subscribe("oa-erin", scene="store-1").reply["Content"] == "welcome union-erin"
    info = client.user.get("oa-erin")
    assert (info["subscribe"], info["qr_scene_str"]) == (1, "store-1")
    assert client.message.send_text("oa-erin", "thanks for following")["errcode"] == 0
    simulator.unsubscribe("oa-erin")
    assert client.user.get("oa-erin")["subscribe"] == 0
