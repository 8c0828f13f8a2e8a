"""Promised ready times (preparation by time of day, a chosen pickup time), late orders judged once with their
compensation coupon, and pickup_at input checked."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Coupon, NotificationLog, Order, utcnow
from app.promises.lateness import judge, judge_due_orders
from app.promises.terms import parse_busy_windows, set_terms
from tests import factories
from tests.promises.conftest import Shop, fresh, order_by_no, pay, place

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


def test_busy_windows_parse_and_apply():
    assert parse_busy_windows("11:30-13:30=20, 22:00-02:00=15") == ((690, 810, 20), (1320, 120, 15))
    with pytest.raises(ValueError):
        parse_busy_windows("11:30-13:30")
    with pytest.raises(ValueError):
        parse_busy_windows("11:30-13:30=0")


def test_paid_order_is_promised_payment_plus_preparation_at_that_hour(client, shop, app):
    local = utcnow().astimezone(SHANGHAI)
    start = (local - timedelta(minutes=30)).strftime("%H:%M")
    end = (local + timedelta(minutes=30)).strftime("%H:%M")
    set_terms(shop.store_id, prep_minutes=10, busy_windows=f"{start}-{end}=25")
    db.session.commit()
    headers = factories.login(client, "alice")
    body = place(client, headers, shop).get_json()
    assert body["promised_ready_at"] is None  # not before payment
    before = utcnow()
    order = pay(app, body["order_no"])
    assert before + timedelta(minutes=25) <= order.promised_ready_at <= utcnow() + timedelta(minutes=25)
    shown = client.get(f"/api/v1/orders/{body['order_no']}", headers=headers).get_json()
    assert shown["promised_ready_at"] == order.promised_ready_at.isoformat() and shown["late"] is None
    store = client.get(f"/api/v1/stores/{shop.store_id}").get_json()
    assert store["service"]["prep_minutes_now"] == 25


def test_a_later_chosen_pickup_time_is_the_promise(client, shop, app):
    headers = factories.login(client, "alice")
    wanted = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    body = place(client, headers, shop, pickup_at=_iso(wanted)).get_json()
    assert body["pickup_at"] == wanted.isoformat()
    assert pay(app, body["order_no"]).promised_ready_at == wanted


@pytest.mark.parametrize("value", ["2020-01-01T10:00:00+08:00", "tomorrow", "2026-12-01T12:00:00", 1700000000,
                                   "２０２６-12-01T12:00:00+08:00", "2026-02-30T12:00:00+08:00"])
def test_bad_pickup_times_are_400_and_write_nothing(client, shop, value):
    headers = factories.login(client, "alice")
    response = place(client, headers, shop, pickup_at=value)
    assert response.status_code == 400, response.get_json()
    assert list(response.get_json()["error"]["details"]["fields"]) == ["pickup_at"]
    fresh()
    assert db.session.scalar(select(Order.id)) is None


def test_a_pickup_time_outside_opening_hours_or_too_far_is_refused(client, app_ctx):
    local = utcnow().astimezone(SHANGHAI)
    opens = (local - timedelta(hours=1)).strftime("%H:%M")
    closes = (local + timedelta(hours=2)).strftime("%H:%M")
    store_id = factories.store(hours=f"daily {opens}-{closes}")
    shop = Shop(store_id, factories.product(specs=(("中杯", 2800),), stock={store_id: 5}).sku_ids[0])
    headers = factories.login(client, "alice")
    closed_then = place(client, headers, shop, pickup_at=_iso(utcnow() + timedelta(hours=5)))
    assert closed_then.status_code == 400
    assert "opening hours" in str(closed_then.get_json()["error"]["details"])
    too_far = place(client, headers, shop, pickup_at=_iso(utcnow() + timedelta(hours=30)))
    assert too_far.status_code == 400
    assert place(client, headers, shop, pickup_at=_iso(utcnow() + timedelta(hours=1))).status_code == 201


def test_a_late_order_earns_one_compensation_coupon_paid_by_its_store(client, shop, app):
    set_terms(shop.store_id, prep_minutes=10, grace_minutes=5, compensation_fen=400)
    db.session.commit()
    headers = factories.login(client, "alice")
    order = pay(app, place(client, headers, shop).get_json()["order_no"])
    promised = order.promised_ready_at
    assert judge_due_orders(now=promised + timedelta(minutes=4)) == 0  # within the grace: not yet
    assert judge(order.id, now=promised + timedelta(minutes=4)) is None
    later = promised + timedelta(minutes=6)
    assert judge_due_orders(now=later) == 1
    assert judge_due_orders(now=later) == 0 and judge(order.id, now=later) is None  # once
    fresh()
    coupons = db.session.scalars(select(Coupon)).all()
    assert len(coupons) == 1
    coupon = coupons[0]
    assert (coupon.amount_fen, coupon.source_order_id, coupon.definition.kind) == (400, order.id, "compensation")
    assert coupon.definition.funded_by_store_id == shop.store_id
    assert order_by_no(order.order_no).promise_outcome == "late"
    assert client.get(f"/api/v1/orders/{order.order_no}", headers=headers).get_json()["late"] is True
    service = client.get(f"/api/v1/stores/{shop.store_id}").get_json()["service"]
    assert (service["judged_orders"], service["late_orders"], service["on_time_rate"]) == (1, 1, 0.0)
    # The message: the order notification of kind "late" (the official-account channel needs a follower).
    assert db.session.scalars(select(NotificationLog).where(NotificationLog.kind == "late")).all() == []

    # The coupon pays part of the next order.
    mine = client.get("/api/v1/me/coupons?state=available", headers=headers).get_json()["items"]
    assert [c["id"] for c in mine] == [coupon.id]
    body = place(client, headers, shop, coupon_id=coupon.id).get_json()
    assert (body["discount_fen"], body["payable_fen"]) == (400, 5200)


def test_an_order_ready_in_time_keeps_the_promise(client, shop, app, staff_member):
    headers = factories.login(client, "alice")
    order = pay(app, place(client, headers, shop).get_json()["order_no"])
    clerk = staff_member(shop.store_id)
    assert client.post(f"/api/v1/staff/orders/{order.order_no}/ready", headers=clerk.headers).status_code == 200
    assert judge_due_orders(now=order.promised_ready_at + timedelta(hours=1)) == 0
    assert order_by_no(order.order_no).promise_outcome == "kept"
    fresh()
    assert db.session.scalar(select(Coupon.id)) is None
    pickups = client.get("/api/v1/staff/pickups", headers=clerk.headers).get_json()["items"]
    assert pickups[0]["promised_ready_at"] == order.promised_ready_at.isoformat()
