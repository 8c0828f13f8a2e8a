"""Order notifications: each (order, kind, channel) sent once and only against a subscription grant; 43101
recorded and the grant cleared, not retried; transient errors are; keyword mapping from NOTIFICATION_TEMPLATES."""
from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import NotificationLog, Order, OutboxJob
from app.notifications import enqueue_order_notification, send_order_notification
from app.notifications.sending import NotificationRetry
from tests import factories
from tests.official_account.conftest import accept_subscriptions, fresh, place_order, run_jobs

SUBSCRIBE, TEMPLATE = "cgi-bin/message/subscribe/send", "cgi-bin/message/template/send"


@pytest.fixture
def order_id(follower, wx, client, app_ctx) -> int:
    """frank: a customer of the mini-program who also follows the official account (one unionid)."""
    wx.person("u-frank", "frank-mp", "frank-oa")
    store_id = factories.store("静安店")
    sku_id = factories.product(stock={store_id: 5}).sku_ids[0]
    order_no = place_order(client, "frank-mp", store_id, sku_id)
    follower.subscribe("frank-oa")
    accept_subscriptions(client, wx, "frank-mp")
    return fresh(Order, order_no=order_no).id


def send(order_id: int, kind: str) -> dict[str, str]:
    """The job as a worker runs it: in a transaction that starts now, seeing what the served app committed."""
    db.session.commit()
    return send_order_notification(order_id, kind)


def logs() -> dict[str, tuple[str, int, int | None]]:
    db.session.commit()
    return {row.channel: (row.status, row.attempts, row.errcode) for row in db.session.query(NotificationLog)}


def test_each_channel_is_sent_once(order_id, wx):
    assert send(order_id, "paid") == {"subscribe": "sent", "template": "sent"}
    assert send(order_id, "paid") == {"subscribe": "already_done", "template": "already_done"}
    [mini] = wx.inbox("frank-mp")
    assert mini["channel"] == "subscribe" and mini["payload"]["template_id"] == "sandbox-subscribe-order-paid"
    assert mini["payload"]["page"].startswith("pages/order/detail?order_no=")
    # Keywords of the chosen template (NOTIFICATION_TEMPLATES), values fitted to their types.
    data = {key: item["value"] for key, item in mini["payload"]["data"].items()}
    assert set(data) == {"character_string1", "thing2", "amount3", "time4", "character_string5"}
    assert data["thing2"] == "静安店" and data["amount3"] == "¥10.00" and data["time4"].endswith(":" + data["time4"][-2:])
    [oa] = wx.inbox("frank-oa")
    assert oa["channel"] == "template" and oa["payload"]["template_id"] == "sandbox-oa-order-status"
    assert oa["payload"]["miniprogram"]["appid"] == "wx0000000000c0ffee"
    assert logs() == {"subscribe": ("sent", 1, None), "template": ("sent", 1, None)}
    assert send(order_id, "ready")["subscribe"] == "sent"  # another kind is another message


def test_no_subscription_is_recorded_and_not_retried(order_id, wx, client):
    wx.post("subscriptions/refuse", {"openid": "frank-mp", "template_id": "sandbox-subscribe-order-ready"})
    assert send(order_id, "ready") == {"subscribe": "refused", "template": "sent"}
    assert send(order_id, "ready") == {"subscribe": "already_done", "template": "already_done"}
    assert len(wx.records(SUBSCRIBE)) == 1
    assert logs()["subscribe"] == ("refused", 1, 43101)
    headers = factories.login(client, "frank-mp")
    grants = client.get("/api/v1/me/subscriptions", headers=headers).get_json()["grants"]
    assert grants["sandbox-subscribe-order-ready"] == 0  # WeChat holds none: ours are cleared


def test_a_transient_error_is_retried_without_resending_what_went_out(order_id, wx):
    wx.post("failures", {"path": SUBSCRIBE, "errcode": -1, "times": 1})
    with pytest.raises(NotificationRetry):
        send(order_id, "picked_up")
    assert logs() == {"subscribe": ("failed", 1, -1), "template": ("sent", 1, None)}
    assert send(order_id, "picked_up") == {"subscribe": "sent", "template": "already_done"}
    assert logs() == {"subscribe": ("sent", 2, None), "template": ("sent", 1, None)}
    assert len(wx.inbox("frank-mp")) == 1 and len(wx.inbox("frank-oa")) == 1


def test_grants_are_asked_most_useful_first_and_spent_one_per_message(order_id, client, wx):
    headers = factories.login(client, "frank-mp")
    summary = client.get("/api/v1/me/subscriptions", headers=headers).get_json()
    paid, ready, picked_up, refunded = ("sandbox-subscribe-order-paid", "sandbox-subscribe-order-ready",
                                        "sandbox-subscribe-order-picked-up", "sandbox-subscribe-order-refunded")
    # Two rounds of accepts: the first asked for three (paid, ready, refunded), the second for the one not held
    # first (picked_up), then the most useful (paid, ready).
    assert summary["grants"] == {paid: 2, ready: 2, refunded: 1, picked_up: 1}
    assert summary["ask"] == [paid, ready, refunded]
    assert send(order_id, "paid")["subscribe"] == "sent"
    after = client.get("/api/v1/me/subscriptions", headers=headers).get_json()
    assert after["grants"][paid] == 1


def test_without_a_grant_wechat_is_not_called(follower, wx, client, app_ctx):
    store_id = factories.store("徐汇店")
    sku_id = factories.product(stock={store_id: 5}).sku_ids[0]
    order_no = place_order(client, "gail-mp", store_id, sku_id)
    assert send(fresh(Order, order_no=order_no).id, "paid") == {"subscribe": "no_grant"}
    assert wx.records(SUBSCRIBE) == []


def test_subscription_reports_are_validated(client, app_ctx):
    headers = factories.login(client, "hal-mp")
    for body in ({"results": {"unknown-template": "accept"}}, {"results": {"sandbox-subscribe-order-paid": "maybe"}},
                 {"results": []}, {}):
        response = client.post("/api/v1/me/subscriptions", json=body, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"
    rejected = client.post("/api/v1/me/subscriptions", headers=headers, json={"results": {
        "sandbox-subscribe-order-paid": "reject", "sandbox-subscribe-order-ready": "ban", "errMsg": "ok"}})
    assert rejected.status_code == 200
    summary = rejected.get_json()
    assert summary["grants"]["sandbox-subscribe-order-paid"] == 0
    assert "sandbox-subscribe-order-ready" not in summary["ask"]  # banned: not asked again
    assert client.get("/api/v1/me/subscriptions").status_code == 401


def test_a_customer_who_does_not_follow_gets_the_mini_program_message_only(order_id, follower, wx):
    follower.unsubscribe("frank-oa")
    assert send(order_id, "refunded") == {"subscribe": "sent"}


def test_enqueue_runs_the_job_with_retries_and_a_deterministic_id(order_id, wx, app_ctx):
    order = db.session.get(Order, order_id)
    enqueue_order_notification(order, "paid")
    enqueue_order_notification(order, "paid")  # a duplicate trigger
    db.session.commit()
    [row] = db.session.query(OutboxJob).filter_by(target="app.notifications.sending:send_order_notification").all()
    assert json.loads(row.retries) == [10, 60, 300]
    if app_ctx.extensions["micromall_redis"] is not None:
        run_jobs(app_ctx)
    assert len(wx.inbox("frank-mp")) == 1 and len(wx.inbox("frank-oa")) == 1
    with pytest.raises(ValueError):
        enqueue_order_notification(order, "shipped")
