"""Followers: store QR attribution and cards, unsubscribe, locations, and the link to the Customer."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.followers.service import link_customer
from app.models import Customer, Follower
from app.stores.hours import local_now
from tests import factories
from tests.official_account.conftest import fresh, run_jobs


@pytest.fixture
def shop_for_link(app_ctx):
    return factories.store("静安店")


def closed_now_hours() -> str:
    hour = local_now("Asia/Shanghai").hour
    return f"daily {(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"


def test_subscribe_from_a_store_qr_attributes_and_shows_the_card(follower, wx, app_ctx):
    wx.post("open-platform", {"bound": True})
    store_id = factories.store("静安店")
    other_id = factories.store("徐汇店")
    result = follower.subscribe("o-qr", scene=f"store_{store_id}")
    content = result.reply["Content"]
    assert "欢迎关注" in content and 'data-miniprogram-appid="wx0000000000c0ffee"' in content
    assert "【静安店】营业中" in content and "上海市测试路1号" in content and "每天 00:00-24:00" in content
    row = fresh(Follower, openid="o-qr")
    assert (row.subscribed, row.source_store_id, row.unionid) == (True, store_id, "sandbox-union-o-qr")
    assert row.subscribed_at is not None
    follower.unsubscribe("o-qr")
    follower.subscribe("o-qr", scene=f"store_{other_id}")
    assert fresh(Follower, openid="o-qr").source_store_id == store_id  # the first store keeps the follower


def test_a_plain_subscribe_and_a_foreign_scene_get_the_welcome(follower, app_ctx):
    assert "欢迎关注" in follower.subscribe("o-plain").reply["Content"]
    assert "【" not in follower.subscribe("o-other", scene="campaign_7").reply["Content"]
    assert fresh(Follower, openid="o-other").source_store_id is None


def test_scanning_a_store_code_shows_that_store(follower, app_ctx):
    store_id = factories.store("长宁店", hours=closed_now_hours())
    follower.subscribe("o-scan")
    content = follower.scan("o-scan", f"store_{store_id}").reply["Content"]
    assert "【长宁店】休息中" in content and f"pages/store/index?id={store_id}" in content
    assert follower.scan("o-scan", "store_999999").reply is None


def test_unsubscribe_is_marked_and_kept(follower, app_ctx):
    follower.subscribe("o-bye")
    result = follower.unsubscribe("o-bye")
    assert (result.status, result.body) == (200, b"success")
    row = fresh(Follower, openid="o-bye")
    assert row.subscribed is False and row.unsubscribed_at is not None and row.subscribed_at is not None


def test_location_gives_the_three_nearest_open_stores_in_order(follower, app_ctx):
    lat, lng = 31.2243, 121.4458
    factories.store("关着的最近店", lat + 0.001, lng, hours=closed_now_hours())
    names = ["二号店", "三号店", "四号店", "五号店"]
    for offset, name in zip((0.002, 0.005, 0.010, 0.020), names):
        factories.store(name, lat + offset, lng)
    factories.store("外地店", lat + 2, lng)
    content = follower.send_location("o-loc", lat, lng).reply["Content"]
    positions = [content.find(name) for name in names[:3]]
    assert -1 not in positions and positions == sorted(positions)
    assert "五号店" not in content and "关着的" not in content and "外地店" not in content
    # (MariaDB keeps store coordinates as single-precision FLOAT: 222 or 223 metres)
    assert re.search(r"二号店（22\d 米）", content) and "1.1 公里" in content and "每天 00:00-24:00" in content
    row = fresh(Follower, openid="o-loc")
    assert (row.last_latitude, row.last_longitude) == (lat, lng)
    first_at = row.last_located_at
    follower.send_location("o-loc", lat + 0.001, lng - 0.001)  # a known follower: one UPDATE by openid
    row = fresh(Follower, openid="o-loc")
    assert (row.last_latitude, row.last_longitude) == (lat + 0.001, lng - 0.001)
    assert row.last_located_at >= first_at and row.updated_at == row.last_located_at


def test_a_location_event_is_remembered_and_answered_with_success(follower, app_ctx):
    result = follower.location_event("o-ev", 31.23, 121.47)
    assert (result.status, result.body) == (200, b"success")
    row = fresh(Follower, openid="o-ev")
    assert (row.last_latitude, row.last_longitude) == (31.23, 121.47) and row.last_located_at is not None


def test_follower_first_then_customer_login_links_them(follower, wx, client, app_ctx):
    wx.person("u-alice", "alice-mp", "alice-oa")
    follower.subscribe("alice-oa")
    assert fresh(Follower, openid="alice-oa").customer_id is None
    factories.login(client, "alice-mp")  # login calls link_customer
    customer = fresh(Customer, openid="alice-mp")
    assert fresh(Follower, openid="alice-oa").customer_id == customer.id
    assert link_customer(customer) == 0  # idempotent: nothing left to link
    db.session.commit()


def test_customer_first_then_subscribe_links_them(follower, wx, client, app_ctx):
    wx.person("u-bob", "bob-mp", "bob-oa")
    factories.login(client, "bob-mp")
    follower.subscribe("bob-oa")
    assert fresh(Follower, openid="bob-oa").customer_id == fresh(Customer, openid="bob-mp").id


def test_a_failed_user_info_is_filled_in_by_a_job(follower, wx, app_ctx):
    wx.post("open-platform", {"bound": True})
    wx.post("failures", {"path": "cgi-bin/user/info", "errcode": -1, "times": 1})
    assert "欢迎关注" in follower.subscribe("o-later").reply["Content"]  # answered all the same
    run_jobs(app_ctx)
    assert fresh(Follower, openid="o-later").unionid == "sandbox-union-o-later"
    assert len(wx.records("cgi-bin/user/info")) == 2


def test_a_cold_token_is_never_fetched_inside_the_callback(follower, wx, app_ctx):
    """The 5 seconds of the callback are not spent on a token fetch: user/info waits for a job."""
    wx.post("open-platform", {"bound": True})
    wx.post("tokens/revoke", {})
    app_ctx.extensions["micromall_wechat_apis"].clear()  # a fresh process: nothing cached
    redis = app_ctx.extensions["micromall_redis"]
    if redis is not None:
        redis.delete(*redis.keys("micromall:wechat:token*") or ["none"])
    assert "欢迎关注" in follower.subscribe("o-cold").reply["Content"]
    if redis is not None:  # jobs wait in RQ: nothing fetched a token or called user/info for the callback
        assert wx.records("cgi-bin/user/info") == []
    run_jobs(app_ctx)
    assert fresh(Follower, openid="o-cold").unionid == "sandbox-union-o-cold"


def _link_path(content: str) -> str:
    match = re.search(r'data-miniprogram-path="(pages/account/link\?token=[^"]+)"', content)
    assert match, content
    return match.group(1)


def test_without_unionid_the_follower_links_by_a_one_time_token(follower, wx, client, app_ctx, shop_for_link):
    # No Open Platform binding: the sandbox, like WeChat, gives no unionid to either side.
    headers = factories.login(client, "ivy-mp")
    follower.subscribe("ivy-oa")
    assert fresh(Follower, openid="ivy-oa").unionid is None
    reply = follower.send_text("ivy-oa", "绑定").reply["Content"]
    token = _link_path(reply).split("token=", 1)[1]
    assert follower.click("ivy-oa", "LINK").reply["Content"] != reply  # each ask gives a new token
    linked = client.post("/api/v1/me/official-account/link", json={"token": token}, headers=headers)
    assert linked.status_code == 200 and linked.get_json() == {"linked": True, "following": True}
    customer = fresh(Customer, openid="ivy-mp")
    assert fresh(Follower, openid="ivy-oa").customer_id == customer.id
    again = client.post("/api/v1/me/official-account/link", json={"token": token}, headers=headers)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "link_token_invalid"  # single use
    assert "已与小程序账号绑定" in follower.send_text("ivy-oa", "绑定").reply["Content"]
    # Now 订单 answers at once, from the link.
    assert "你还没有订单" in follower.send_text("ivy-oa", "订单").reply["Content"]


def test_link_tokens_expire_and_bind_to_their_follower(follower, wx, client, app_ctx, shop_for_link):
    from datetime import timedelta

    from app.models import FollowerLinkToken

    follower.subscribe("jay-oa")
    token = _link_path(follower.send_text("jay-oa", "绑定").reply["Content"]).split("token=", 1)[1]
    db.session.commit()
    row = db.session.query(FollowerLinkToken).one()
    row.expires_at = row.created_at - timedelta(seconds=1)
    db.session.commit()
    headers = factories.login(client, "jay-mp")
    expired = client.post("/api/v1/me/official-account/link", json={"token": token}, headers=headers)
    assert expired.status_code == 404
    assert client.post("/api/v1/me/official-account/link", json={"token": "x" * 65}, headers=headers).status_code \
        == 400
    assert client.post("/api/v1/me/official-account/link", json={"token": token}).status_code == 401
