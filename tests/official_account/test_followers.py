"""Followers: store QR attribution and cards, unsubscribe, locations, and the link to the Customer."""
from __future__ import annotations

import re

from app.extensions import db
from app.followers.service import link_customer
from app.models import Customer, Follower
from app.stores.hours import local_now
from tests import factories
from tests.official_account.conftest import fresh, run_jobs


def closed_now_hours() -> str:
    hour = local_now("Asia/Shanghai").hour
    return f"daily {(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"


def test_subscribe_from_a_store_qr_attributes_and_shows_the_card(follower, app_ctx):
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
    wx.post("failures", {"path": "cgi-bin/user/info", "errcode": -1, "times": 1})
    assert "欢迎关注" in follower.subscribe("o-later").reply["Content"]  # answered all the same
    run_jobs(app_ctx)
    assert fresh(Follower, openid="o-later").unionid == "sandbox-union-o-later"
    assert len(wx.records("cgi-bin/user/info")) == 2
