"""Finding 1: a replayed official-account query string cannot read a follower's pickup code.

- One (timestamp, nonce) carries one message: the same query with another body (another FromUserName) is refused,
  while WeChat's own retries (same query, same body) keep getting their answer.
- Plaintext is refused whenever an AES key is configured, unless compatible mode is asked for.
- Pickup codes are disclosed only in a reply to a message that came in safe mode.
- nginx logs the callback's path without its query string.
"""
import re
import time
from pathlib import Path

import pytest
import requests

from app.extensions import db
from app.followers.unionid import fill_unionid
from app.models import Follower, Order
from official_account import handlers
from tests.official_account.conftest import CALLBACK
from wechat_sandbox.follower import FollowerSimulator, sign
from wechat_sandbox.server import serve_in_thread

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


@pytest.fixture
def served(app):
    server = serve_in_thread(app)
    yield server
    server.stop()


def follower(app, served, sandbox, safe: bool = True) -> FollowerSimulator:
    config = app.config
    return FollowerSimulator(served.base_url + CALLBACK, config["OFFICIAL_ACCOUNT_TOKEN"],
                             config["OFFICIAL_ACCOUNT_APPID"], config["OFFICIAL_ACCOUNT_AES_KEY"] if safe else None,
                             sandbox_url=sandbox.base_url)


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = handlers.dispatch

    def counting(message):
        seen.append(message.source)
        return real(message)

    monkeypatch.setattr(handlers, "dispatch", counting)
    return seen


def plaintext(openid: str, content: str, msg_id: int) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_sandbox000001]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def test_a_seen_query_with_another_body_is_refused_and_retries_are_answered(app_config, request, sandbox, runs):
    app_config["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] = False  # even in compatible mode
    app, served = request.getfixturevalue("app_ctx"), request.getfixturevalue("served")
    token = app.config["OFFICIAL_ACCOUNT_TOKEN"]
    ts, nonce = str(int(time.time())), "424242"
    params = {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce}
    url = served.base_url + CALLBACK
    original = plaintext("o-victim-follower", "门店", 1001).encode()
    first = requests.post(url, params=params, data=original, timeout=10)
    assert first.status_code == 200 and "位置" in first.text
    for _ in range(3):  # WeChat's retries: the same query and body
        again = requests.post(url, params=params, data=original, timeout=10)
        assert again.status_code == 200 and again.text == first.text
    forged = requests.post(url, params=params, data=plaintext("o-someone-else", "取货码", 1002).encode(), timeout=10)
    assert forged.status_code == 403
    assert runs == ["o-victim-follower"]


def test_the_replay_cache_covers_safe_mode_too(app_ctx, served, sandbox, runs):
    with follower(app_ctx, served, sandbox) as sim:
        ts = int(time.time())
        assert sim.send_text("o-a", "门店", nonce="777", timestamp=ts).status == 200
        assert sim.send_text("o-b", "门店", nonce="777", timestamp=ts).status == 403
    assert runs == ["o-a"]


def test_plaintext_is_refused_by_default_when_an_aes_key_is_set(app_ctx, served, sandbox, runs):
    assert app_ctx.config["OFFICIAL_ACCOUNT_AES_KEY"]
    assert app_ctx.config["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] is True
    with follower(app_ctx, served, sandbox, safe=False) as plain:
        assert plain.send_text("o-plain", "取货码").status == 403
    assert runs == []


def test_pickup_codes_only_in_replies_to_safe_mode_messages(app_config, request, sandbox):
    app_config["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] = False  # compatible mode: both kinds arrive
    app, served = request.getfixturevalue("app_ctx"), request.getfixturevalue("served")
    shop, paid_order = request.getfixturevalue("shop"), request.getfixturevalue("paid_order")
    wx = requests.Session()
    wx.post(f"{sandbox.base_url}/sandbox/open-platform", json={"bound": True}, timeout=5).raise_for_status()
    # one person: the mini-program customer "alice" and the follower "o-alice" share a unionid in the sandbox
    wx.post(f"{sandbox.base_url}/sandbox/people", json={"unionid": "u-alice", "miniprogram_openid": "alice",
                                                        "official_account_openid": "o-alice"}, timeout=5)
    paid = paid_order(shop, "alice")
    code = paid.code
    with follower(app, served, sandbox) as safe, follower(app, served, sandbox, safe=False) as plain:
        assert safe.subscribe("o-alice").status == 200
        # With Redis the unionid job waits for a worker: fill it in here, so the follower is the customer now.
        fill_unionid(db.session.query(Follower).filter_by(openid="o-alice").one().id)
        secret_reply = safe.send_text("o-alice", "取货码")
        assert code in re.sub(r"\s", "", secret_reply.reply["Content"])
        plain_reply = plain.send_text("o-alice", "取货码")
        assert plain_reply.status == 200
        assert paid.order_no in plain_reply.reply["Content"]  # the order is named …
        assert code not in re.sub(r"\s", "", plain_reply.reply["Content"])  # … its code is not
        assert "取货码" in plain_reply.reply["Content"] or "出示" in plain_reply.reply["Content"]
    db.session.rollback()
    assert db.session.query(Order).filter_by(order_no=paid.order_no).one().status == "paid"


def test_nginx_logs_the_callback_without_its_query_string():
    text = NGINX_CONF.read_text()
    location = text[text.index("location /wechat/official-account"):]
    location = location[:location.index("}")]
    assert "access_log" in location and "micromall_no_query" in location
    log_format = text[text.index("log_format micromall_no_query"):]
    log_format = log_format[:log_format.index(";")]
    assert "$uri" in log_format
    for leaky in ("$request ", '$request"', "$request_uri", "$args", "$query_string", "$arg_"):
        assert leaky not in log_format
