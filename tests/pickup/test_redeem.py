"""The counter: preview, exactly-once handover, another store's staff, dead codes, the log, ready, the lists."""
from datetime import timedelta

from app.extensions import db
from app.models import (Customer, NotificationLog, Order, OrderEvent, OrderStatus, PickupAttempt, PickupCode,
                        utcnow)
from app.orders.state import transition
from app.pickup.codes import format_code, revoke_for_order
from tests import factories
from tests.race import run_together
from tests.conftest import mariadb_only
from tests.pickup.conftest import Shop, run_jobs

LOOKUP, REDEEM = "/api/v1/staff/pickups/lookup", "/api/v1/staff/pickups/redeem"


def outcomes():
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    return [(a.action, a.outcome) for a in db.session.query(PickupAttempt).order_by(PickupAttempt.id)]


def test_lookup_previews_with_the_phone_masked(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop, quantity=2), staff_member(shop.store_id)
    customer = db.session.query(Customer).filter_by(openid="alice").one()
    customer.phone = "13812345678"
    db.session.commit()
    response = client.post(LOOKUP, headers=staff.headers, json={"code": format_code(order.code)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["order_no"] == order.order_no and body["status"] == "paid" and body["redeemable"] is True
    assert body["customer"]["phone"] == "138****5678"
    assert [(i["title"], i["spec"], i["quantity"]) for i in body["items"]] == [("拿铁", "中杯", 2)]
    assert "13812345678" not in response.get_data(as_text=True)
    assert db.session.get(Order, order.order_id).status == "paid"  # a lookup hands nothing over
    assert outcomes() == [("lookup", "ok")]


def test_redeem_hands_over_once(client, shop, paid_order, staff_member, app_ctx):
    order, staff, other = paid_order(shop), staff_member(shop.store_id, name="小李"), staff_member(shop.store_id)
    response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "picked_up"
    assert response.get_json()["redeemed_by"] == {"seat_id": staff.seat_id, "name": "小李", "role": "clerk"}
    for headers in (staff.headers, other.headers):
        again = client.post(REDEEM, headers=headers, json={"code": order.code})
        assert again.status_code == 409
        error = again.get_json()["error"]
        assert error["code"] == "already_redeemed"
        assert error["details"]["redeemed_by"]["seat_id"] == staff.seat_id and error["details"]["redeemed_at"]
    events = db.session.query(OrderEvent).filter_by(order_id=order.order_id, to_status="picked_up").all()
    assert [(e.from_status, e.actor) for e in events] == [("paid", f"staff:{staff.seat_id}")]
    assert outcomes() == [("redeem", "redeemed"), ("redeem", "already_redeemed"), ("redeem", "already_redeemed")]
    # after the handover the customer has nothing left to show
    assert client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers).status_code == 409


def test_another_stores_staff_learn_nothing(client, shop, paid_order, staff_member, app_ctx):
    order = paid_order(shop)
    stranger = staff_member(factories.store())
    for path in (LOOKUP, REDEEM):
        response = client.post(path, headers=stranger.headers, json={"code": order.code})
        assert response.status_code == 404  # the same answer as an unknown code (issue 11)
        error = response.get_json()["error"]
        assert error["code"] == "pickup_not_found" and "details" not in error
        text = response.get_data(as_text=True)
        assert order.order_no not in text and "拿铁" not in text and "paid" not in text
    assert db.session.get(Order, order.order_id).status == "paid"
    assert outcomes() == [("lookup", "wrong_store"), ("redeem", "wrong_store")]
    # and the stranger's own log does not name the order either
    log = client.get("/api/v1/staff/redemptions", headers=stranger.headers).get_json()["items"]
    assert [entry["order_no"] for entry in log] == [None, None]


def test_unknown_codes_are_not_found_and_logged(client, shop, staff_member, app_ctx):
    staff = staff_member(shop.store_id)
    response = client.post(REDEEM, headers=staff.headers, json={"code": "0000 0000 0000"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "pickup_not_found"
    assert outcomes() == [("redeem", "pickup_not_found")]  # the log row outlived the error's rollback


def test_a_refunding_or_revoked_order_is_not_redeemable(client, shop, paid_order, staff_member, app_ctx):
    """What the refund path does to an order (paid -> refunding, code revoked) makes its code dead."""
    order, staff = paid_order(shop), staff_member(shop.store_id)
    row = db.session.get(Order, order.order_id)
    transition(row, OrderStatus.REFUNDING, "customer_cancel", "customer:1")
    revoke_for_order(row)
    db.session.commit()
    response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_redeemable"
    assert response.get_json()["error"]["details"]["reason"] == "revoked"
    assert db.session.get(Order, order.order_id).status == "refunding"
    assert db.session.query(PickupCode).filter_by(order_id=order.order_id).one().redeemed_at is None


def test_a_code_past_its_deadline_is_not_redeemable(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    db.session.query(PickupCode).filter_by(order_id=order.order_id).update(
        {"expires_at": utcnow() - timedelta(minutes=1)})
    db.session.commit()
    response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
    assert response.status_code == 409 and response.get_json()["error"]["details"]["reason"] == "expired"


def test_ready_tells_the_customer_and_pickup_thanks_them(app, client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    stranger = staff_member(factories.store())
    assert client.post(f"/api/v1/staff/orders/{order.order_no}/ready", headers=stranger.headers).status_code == 404
    response = client.post(f"/api/v1/staff/orders/{order.order_no}/ready", headers=staff.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "ready"
    assert client.post(f"/api/v1/staff/orders/{order.order_no}/ready", headers=staff.headers).status_code == 200
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    response = client.post(f"/api/v1/staff/orders/{order.order_no}/ready", headers=staff.headers)
    assert response.status_code == 409
    run_jobs(app)
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    kinds = {n.kind for n in db.session.query(NotificationLog).filter_by(order_id=order.order_id)}
    assert kinds == {"paid", "ready", "picked_up"}  # "paid" from the payment path itself
    events = [e.to_status for e in db.session.query(OrderEvent).filter_by(order_id=order.order_id)
              .order_by(OrderEvent.id)]
    assert events == ["pending_payment", "paid", "ready", "picked_up"]


def test_the_stores_waiting_orders_oldest_first(client, shop, paid_order, staff_member, app_ctx):
    first, second, third = paid_order(shop, "a"), paid_order(shop, "b"), paid_order(shop, "c")
    elsewhere = factories.store()
    staff = staff_member(shop.store_id)
    client.post(f"/api/v1/staff/orders/{second.order_no}/ready", headers=staff.headers)
    client.post(REDEEM, headers=staff.headers, json={"code": third.code})
    body = client.get("/api/v1/staff/pickups", headers=staff.headers).get_json()
    assert [i["order_no"] for i in body["items"]] == [first.order_no, second.order_no] and body["total"] == 2
    body = client.get("/api/v1/staff/pickups?status=ready", headers=staff.headers).get_json()
    assert [i["order_no"] for i in body["items"]] == [second.order_no]
    assert client.get("/api/v1/staff/pickups?status=picked_up", headers=staff.headers).status_code == 400
    assert client.get("/api/v1/staff/pickups", headers=staff_member(elsewhere).headers).get_json()["total"] == 0


def test_a_manager_sees_every_seats_log_a_clerk_their_own(client, shop, paid_order, staff_member, app_ctx):
    order = paid_order(shop)
    manager, clerk, other = (staff_member(shop.store_id, "manager"), staff_member(shop.store_id),
                             staff_member(shop.store_id))
    client.post(LOOKUP, headers=clerk.headers, json={"code": order.code})
    client.post(REDEEM, headers=other.headers, json={"code": "999999999999"})
    client.post(REDEEM, headers=clerk.headers, json={"code": order.code})
    log = client.get("/api/v1/staff/redemptions", headers=manager.headers).get_json()
    assert [(e["staff"]["id"], e["action"], e["outcome"]) for e in log["items"]] == [
        (clerk.seat_id, "redeem", "redeemed"), (other.seat_id, "redeem", "pickup_not_found"),
        (clerk.seat_id, "lookup", "ok")]
    assert log["items"][0]["order_no"] == order.order_no and log["items"][0]["via"] == "code"
    mine = client.get("/api/v1/staff/redemptions", headers=clerk.headers).get_json()
    assert [e["outcome"] for e in mine["items"]] == ["redeemed", "ok"] and mine["total"] == 2


@mariadb_only
def test_fifty_simultaneous_redeems_give_exactly_one_handover(app, paid_order, staff_member, sandbox):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 10})
    order = paid_order(Shop(store_id, made.sku_ids[0]))
    seats = [staff_member(store_id) for _ in range(5)]  # several seats, so the per-seat limit is not what decides

    qr_token = app.test_client().get(f"/api/v1/orders/{order.order_no}/pickup",
                                     headers=order.headers).get_json()["qr_token"]

    def redeem(staff, body):
        return lambda: app.test_client().post(REDEEM, headers=staff.headers, json=body)

    # typed codes and scanned QR tokens mixed, from five seats at once
    responses = run_together([redeem(seats[i % 5], {"qr_token": qr_token} if i % 5 == 0 else {"code": order.code})
                              for i in range(50)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.get_json() for r in responses if r.status_code not in (200, 409)]
    assert statuses == [200] + [409] * 49
    assert {r.get_json()["error"]["code"] for r in responses if r.status_code == 409} == {"already_redeemed"}
    with app.app_context():
        assert db.session.get(Order, order.order_id).status == "picked_up"
        assert db.session.query(OrderEvent).filter_by(order_id=order.order_id, to_status="picked_up").count() == 1
        assert sorted(o for _, o in outcomes()) == ["already_redeemed"] * 49 + ["redeemed"]


@mariadb_only
def test_a_redeem_racing_a_refund_ends_one_way_only(app, paid_order, staff_member, sandbox):
    """Handover and refund lock the order row first and the code second, so they neither deadlock nor both win."""
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 50})
    orders = [paid_order(Shop(store_id, made.sku_ids[0]), f"racer{i}") for i in range(8)]
    staff = staff_member(store_id)
    for order in orders:
        redeem, cancel = run_together([
            lambda: app.test_client().post(REDEEM, headers=staff.headers, json={"code": order.code}),
            lambda: app.test_client().post(f"/api/v1/orders/{order.order_no}/cancel", headers=order.headers)])
        assert sorted([redeem.status_code, cancel.status_code]) == [200, 409], (redeem.get_json(), cancel.get_json())
        with app.app_context():
            status = db.session.get(Order, order.order_id).status
            code = db.session.query(PickupCode).filter_by(order_id=order.order_id).one()
            if redeem.status_code == 200:
                assert status == "picked_up" and code.redeemed_at and code.revoked_at is None
            else:
                assert status in ("refunding", "refunded", "refund_failed") and code.revoked_at
                assert code.redeemed_at is None


@mariadb_only
def test_a_counter_rush_on_one_seat_gives_one_handover_and_only_already_redeemed(app, paid_order, staff_member,
                                                                                  sandbox):
    """The bench's S5 shape: one seat scanning each code 20 times at once (double taps, two devices on one seat).
    Exactly one success per code, every other answer 409 already_redeemed: never 429 (a real code is no guess,
    even while the other scans of it are still in flight) and never 503."""
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 50})
    orders = [paid_order(Shop(store_id, made.sku_ids[0]), f"rush{i}") for i in range(3)]
    staff = staff_member(store_id)
    for order in orders:
        responses = run_together([lambda: app.test_client().post(REDEEM, headers=staff.headers,
                                                                 json={"code": order.code}) for _ in range(20)])
        answers = sorted((r.status_code, (r.get_json().get("error") or {}).get("code")) for r in responses)
        assert answers == [(200, None)] + [(409, "already_redeemed")] * 19, answers
        with app.app_context():
            assert db.session.get(Order, order.order_id).status == "picked_up"
            attempts = db.session.query(PickupAttempt).filter_by(order_id=order.order_id).all()
            assert sorted(a.outcome for a in attempts) == ["already_redeemed"] * 19 + ["redeemed"]
