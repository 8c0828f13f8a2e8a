"""Texts and menu clicks: keyword rules, orders, pickup, and the answer that comes later through custom/send."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.followers.rules import add_rule, remove_rule
from app.models import Order, OrderStatus, ReplyRule
from app.orders.state import transition
from tests import factories
from tests.official_account.conftest import place_order, run_jobs


@pytest.fixture
def shop(app_ctx):
    store_id = factories.store("静安店")
    return store_id, factories.product("拿铁", stock={store_id: 10}).sku_ids[0]


def test_keyword_rules_exact_beats_contains_and_priority_wins(follower, app_ctx):
    add_rule("Hi", "exact", 0, "text", content="exact hi")
    add_rule("hi", "contains", 10, "text", content="contains hi, priority 10")
    add_rule("h", "contains", 5, "text", content="contains h, priority 5")
    add_rule("新品", "contains", 0, "news", content="本周新品", title="新品上市", url="https://example.com/new")
    db.session.commit()
    assert follower.send_text("o-r", " HI ").reply["Content"] == "exact hi"
    assert follower.send_text("o-r", "hi there").reply["Content"] == "contains hi, priority 10"
    assert follower.send_text("o-r", "ha").reply["Content"] == "contains h, priority 5"
    news = follower.send_text("o-r", "有什么新品").reply
    assert news["MsgType"] == "news" and news["Articles"]["item"]["Title"] == "新品上市"
    assert "回复「订单」" in follower.send_text("o-r", "xyz").reply["Content"]  # the friendly default


def test_a_rule_change_shows_on_the_next_text(follower, app_ctx):
    """With Redis the rules are matched from a copy tagged with a version that every commit of a change bumps."""
    rule = add_rule("营业时间", "exact", 0, "text", content="9-21")
    db.session.commit()
    assert follower.send_text("o-r", "营业时间").reply["Content"] == "9-21"
    remove_rule(rule.id)
    db.session.commit()
    assert "回复「订单」" in follower.send_text("o-r", "营业时间").reply["Content"]
    add_rule("营业时间", "exact", 0, "text", content="10-22")
    db.session.commit()
    assert follower.send_text("o-r", "营业时间").reply["Content"] == "10-22"


def test_rules_are_managed_from_the_command_line(app_ctx):
    runner = app_ctx.test_cli_runner()
    added = runner.invoke(args=["oa", "rules", "add", "营业时间", "--match", "contains", "--priority", "3",
                                "--text", "每天 9 点到 21 点"])
    assert added.exit_code == 0, added.output
    rule_id = int(added.output.strip().splitlines()[-1])
    duplicate = runner.invoke(args=["oa", "rules", "add", "营业时间", "--match", "contains", "--text", "x"])
    assert duplicate.exit_code != 0 and "already" in duplicate.output
    assert runner.invoke(args=["oa", "rules", "add", "x"]).exit_code != 0  # neither text nor news
    listed = runner.invoke(args=["oa", "rules", "list"]).output
    assert f"{rule_id}\tcontains\t3\t营业时间\t每天 9 点到 21 点" in listed
    assert runner.invoke(args=["oa", "rules", "remove", str(rule_id)]).exit_code == 0
    assert db.session.query(ReplyRule).count() == 0
    assert runner.invoke(args=["oa", "rules", "remove", str(rule_id)]).exit_code != 0


def test_orders_of_the_linked_customer(follower, wx, client, app_ctx, shop):
    wx.person("u-carol", "carol-mp", "carol-oa")
    order_no = place_order(client, "carol-mp", *shop)
    follower.subscribe("carol-oa")
    for text in ("订单", "Order"):
        content = follower.send_text("carol-oa", text).reply["Content"]
        assert f"{order_no} 待支付 ¥10.00 · 静安店" in content and "pages/order/list" in content
    clicked = follower.click("carol-oa", "ORDERS").reply["Content"]
    assert order_no in clicked


def test_a_follower_who_never_logged_in_is_asked_to(follower, wx, app_ctx):
    follower.subscribe("o-nobody")
    # Without a unionid who this is stays open: `success` now, the answer by customer-service message.
    result = follower.send_text("o-nobody", "订单")
    assert (result.status, result.body) == (200, b"success")
    run_jobs(app_ctx)
    [message] = wx.inbox("o-nobody")
    assert "在小程序登录" in message["payload"]["text"]["content"] and "绑定" in message["payload"]["text"]["content"]


def test_pickup_lists_paid_and_ready_orders(follower, wx, client, app_ctx, shop):
    wx.person("u-dave", "dave-mp", "dave-oa")
    paid_no = place_order(client, "dave-mp", *shop)
    unpaid_no = place_order(client, "dave-mp", *shop)
    transition(db.session.query(Order).filter_by(order_no=paid_no).one(), OrderStatus.PAID, "test", "test")
    db.session.commit()
    follower.subscribe("dave-oa")
    content = follower.send_text("dave-oa", "取货码").reply["Content"]
    assert f"{paid_no} · 静安店 · 已支付" in content and unpaid_no not in content
    assert f"pages/order/detail?order_no={paid_no}" in content and "出示取货码" in content
    assert follower.click("dave-oa", "PICKUP").reply["Content"] == content


def test_stores_keyword_and_menu_click(follower, app_ctx):
    assert "发送你的位置" in follower.send_text("o-s", "门店").reply["Content"]
    assert "发送你的位置" in follower.click("o-s", "STORES").reply["Content"]


def test_an_unknown_follower_gets_success_now_and_the_answer_by_custom_message(follower, wx, client, app_ctx,
                                                                               shop):
    wx.person("u-erin", "erin-mp", "erin-oa")
    order_no = place_order(client, "erin-mp", *shop)
    # erin followed before the callback existed: no follower row, no unionid yet.
    result = follower.send_text("erin-oa", "订单")
    assert (result.status, result.body) == (200, b"success")
    run_jobs(app_ctx)
    [message] = wx.inbox("erin-oa")
    assert message["channel"] == "custom" and order_no in message["payload"]["text"]["content"]


def test_the_menu_is_pushed_from_the_json_file(app_ctx, wx):
    result = app_ctx.test_cli_runner().invoke(args=["oa", "push-menu"])
    assert result.exit_code == 0, result.output
    [record] = wx.records("cgi-bin/menu/create")
    buttons = record["payload"]["button"]
    mini = next(b for b in buttons if b.get("type") == "miniprogram")
    assert mini["appid"] == app_ctx.config["MINIPROGRAM_APPID"] and mini["url"] == app_ctx.config["PUBLIC_BASE_URL"]
    keys = {b["key"] for button in buttons for b in [button, *button.get("sub_button", [])] if "key" in b}
    assert keys == {"ORDERS", "PICKUP", "STORES", "LINK"}


def test_store_qrcode_saves_the_jpeg_of_a_permanent_store_scene(app_ctx, wx, tmp_path, monkeypatch):
    store_id = factories.store()
    monkeypatch.chdir(tmp_path)
    result = app_ctx.test_cli_runner().invoke(args=["oa", "store-qrcode", str(store_id)])
    assert result.exit_code == 0, result.output
    # showqrcode answers image/jpg, as mp.weixin.qq.com does: the file gets the image's real extension.
    assert result.output.strip().splitlines()[-1] == f"store_{store_id}_qrcode.jpg"
    assert (tmp_path / f"store_{store_id}_qrcode.jpg").read_bytes().startswith(b"\xff\xd8\xff")
    out = tmp_path / "store.jpg"
    [record] = wx.records("cgi-bin/qrcode/create")
    assert record["payload"] == {"action_name": "QR_LIMIT_STR_SCENE",
                                 "action_info": {"scene": {"scene_str": f"store_{store_id}"}}}
    assert len(wx.records("cgi-bin/showqrcode")) == 1  # the ticket (base64 with + / =) arrived intact
    missing = app_ctx.test_cli_runner().invoke(args=["oa", "store-qrcode", "999999", "--out", str(out)])
    assert missing.exit_code != 0


@pytest.mark.parametrize("event, fields", [
    ("subscribe_msg_popup_event", [("SubscribeMsgPopupEvent", "<List><TemplateId>t</TemplateId>"
                                                             "<SubscribeStatusString>accept</SubscribeStatusString>"
                                                             "</List>")]),
    ("weapp_audit_success", []),  # a kind of event that wechatpy does not know
    ("TEMPLATESENDJOBFINISH", [("Status", "success")]),
])
def test_unknown_and_unanswered_events_get_success_and_no_text(follower, app_ctx, event, fields):
    result = follower.event("o-events", event, fields)
    assert (result.status, result.body) == (200, b"success")
