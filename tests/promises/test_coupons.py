"""Coupons with orders: each refusal is a 409 coupon_unavailable with nothing written; locked by an unpaid order,
back on cancel or expiry; claims within the per-customer limit and the budget, exact under concurrency."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.coupons.issuing import define
from app.extensions import db
from app.models import Coupon, CouponDefinition, Order, StoreStock, utcnow
from app.orders.cancellation import expire_order
from tests import factories
from tests.conftest import mariadb_only
from tests.promises.conftest import customer_id, fresh, give_coupon, order_by_no, pay, place
from tests.race import run_together


def _orders() -> int:
    fresh()
    return db.session.scalar(select(func.count()).select_from(Order))


def _refused(response, reason):
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "coupon_unavailable" and error["details"]["reason"] == reason


def test_refusals_write_nothing(client, shop):
    headers = factories.login(client, "alice")
    other_store = factories.store()
    elsewhere = give_coupon("alice", [other_store])
    expired = give_coupon("alice", [shop.store_id])
    db.session.get(Coupon, expired).expires_at = db.session.get(Coupon, expired).issued_at - timedelta(seconds=1)
    db.session.commit()
    too_big = give_coupon("alice", [shop.store_id], min_spend_fen=10_000)
    factories.login(client, "bob")
    bobs = give_coupon("bob", [shop.store_id])

    _refused(place(client, headers, shop, coupon_id=elsewhere), "other_store")
    _refused(place(client, headers, shop, coupon_id=expired), "expired")
    _refused(place(client, headers, shop, coupon_id=too_big), "below_minimum_spend")
    _refused(place(client, headers, shop, coupon_id=bobs), "not_found")
    _refused(place(client, headers, shop, coupon_id=999_999), "not_found")
    assert place(client, headers, shop, coupon_id=0).status_code == 400
    assert place(client, headers, shop, coupon_id="1").status_code == 400
    assert _orders() == 0
    assert db.session.get(StoreStock, (shop.store_id, shop.sku_id)).quantity == 100


def test_a_locked_coupon_is_refused_then_comes_back_on_cancel_and_expiry(client, shop, app):
    headers = factories.login(client, "alice")
    coupon_id = give_coupon("alice", [shop.store_id], amount_fen=9_999)
    first = place(client, headers, shop, coupon_id=coupon_id).get_json()
    assert first["payable_fen"] == 1 and first["discount_fen"] == 5599  # at least 1 fen stays payable
    _refused(place(client, headers, shop, coupon_id=coupon_id), "locked")
    assert _orders() == 1
    listed = client.get("/api/v1/me/coupons", headers=headers).get_json()
    assert [(c["id"], c["state"]) for c in listed["items"]] == [(coupon_id, "locked")]

    client.post(f"/api/v1/orders/{first['order_no']}/cancel", headers=headers)
    fresh()
    assert db.session.get(Coupon, coupon_id).status == "available"
    second = place(client, headers, shop, coupon_id=coupon_id).get_json()
    order = order_by_no(second["order_no"])
    assert expire_order(order.id, now=order.expires_at + timedelta(seconds=1))
    db.session.commit()  # expire_order flushes; its job commits
    fresh()
    assert db.session.get(Coupon, coupon_id).status == "available"
    third = place(client, headers, shop, coupon_id=coupon_id).get_json()
    paid = pay(app, third["order_no"])
    assert paid.status == "paid" and db.session.get(Coupon, coupon_id).status == "used"
    assert client.get("/api/v1/me/coupons?state=used", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/me/coupons?state=bogus", headers=headers).status_code == 400


def test_claims_keep_the_limit_and_the_budget(client, shop):
    definition = define("merchant", "新客立减", 300, 7, [shop.store_id], per_customer_limit=1, budget_count=2)
    db.session.commit()
    offers = client.get(f"/api/v1/stores/{shop.store_id}/coupons").get_json()["items"]
    assert [o["definition_id"] for o in offers] == [definition.id]
    people = [factories.login(client, name) for name in ("a1", "a2", "a3")]
    claim = lambda headers: client.post("/api/v1/me/coupons", headers=headers,  # noqa: E731
                                        json={"definition_id": definition.id})
    assert claim(people[0]).status_code == 201
    assert claim(people[0]).get_json()["error"]["code"] == "coupon_limit_reached"
    assert claim(people[1]).status_code == 201
    assert claim(people[2]).get_json()["error"]["code"] == "coupon_budget_exhausted"
    assert client.get(f"/api/v1/stores/{shop.store_id}/coupons").get_json()["items"] == []
    assert claim(people[2]).status_code == 409
    assert client.post("/api/v1/me/coupons", headers=people[2], json={"definition_id": 424242}).status_code == 404
    fresh()
    assert db.session.get(CouponDefinition, definition.id).issued_count == 2


@mariadb_only
def test_a_burst_of_claims_never_passes_the_budget(app, client, shop):
    definition = define("merchant", "限量券", 300, 7, [shop.store_id], per_customer_limit=1, budget_count=50,
                        budget_fen=300 * 3)  # the fen budget is the tighter one: 3 coupons
    db.session.commit()
    definition_id = definition.id
    people = [factories.login(client, f"burst{i}") for i in range(12)]

    def claimer(headers):
        def run():
            with app.test_client() as c:
                return c.post("/api/v1/me/coupons", headers=headers, json={"definition_id": definition_id}).status_code
        return run

    results = run_together([claimer(h) for h in people])
    assert sorted(results) == [201] * 3 + [409] * 9
    fresh()
    row = db.session.get(CouponDefinition, definition_id)
    assert (row.issued_count, row.issued_fen) == (3, 900)
    assert db.session.scalar(select(func.count()).select_from(Coupon)) == 3


@mariadb_only
def test_two_orders_racing_for_one_coupon_one_gets_it(app, client, shop):
    headers = factories.login(client, "alice")
    coupon_id = give_coupon("alice", [shop.store_id])

    def orderer(key):
        def run():
            with app.test_client() as c:
                return c.post("/api/v1/orders", headers={**headers, "Idempotency-Key": key}, json={
                    "store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}],
                    "coupon_id": coupon_id}).status_code
        return run

    results = run_together([orderer(f"race-{i}") for i in range(4)])
    assert sorted(results) == [201, 409, 409, 409]
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.get(Coupon, coupon_id).status == "locked"
    assert db.session.get(StoreStock, (shop.store_id, shop.sku_id)).quantity == 99


@pytest.mark.parametrize("payload", [{"definition_id": "x"}, {"definition_id": -1}, {}])
def test_bad_claims_are_400(client, shop, payload):
    headers = factories.login(client, "alice")
    assert client.post("/api/v1/me/coupons", headers=headers, json=payload).status_code == 400


def test_subsidy_paused_below_the_thresholds(client, shop, app):
    from app.models import OrderRating

    app.config["SUBSIDY_MIN_SAMPLE"] = 1
    factories.login(client, "rater")
    rater = customer_id("rater")
    # One poor rating on an order of this store.
    order = Order(order_no="900001", customer_id=rater, store_id=shop.store_id, status="picked_up", total_fen=100,
                  payable_fen=100, discount_fen=0, expires_at=utcnow())
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderRating(order_id=order.id, customer_id=rater, store_id=shop.store_id, stars=2))
    definition = define("merchant", "店铺券", 300, 7, [shop.store_id], funded_by_store_id=shop.store_id)
    db.session.commit()
    response = client.post("/api/v1/me/coupons", headers=factories.login(client, "alice"),
                           json={"definition_id": definition.id})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "subsidy_paused" and "rating" in error["details"]["reasons"][str(shop.store_id)][0]




@mariadb_only
def test_a_double_tap_with_a_coupon_makes_one_order(app, client, shop):
    headers = {**factories.login(client, "alice"), "Idempotency-Key": "double-tap-coupon"}
    coupon_id = give_coupon("alice", [shop.store_id])
    body = {"store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}], "coupon_id": coupon_id}
    responses = run_together([lambda: app.test_client().post("/api/v1/orders", headers=headers, json=body)] * 4)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["order_no"] for r in responses}) == 1
