"""Alliances: a pickup at one member earns a coupon for another, funded by that member, within its budget, only while
its service meets the thresholds; and the store sees why it is paused."""
from sqlalchemy import select

from app.coupons.alliances import create_alliance, join, reward_pickup
from app.extensions import db
from app.models import Coupon, CouponDefinition, OrderRating
from app.pickup.codes import code_for_order
from tests import factories
from tests.pickup.conftest import run_jobs
from tests.promises.conftest import Shop, customer_id, fresh, pay, place


def _pick_up(client, app, shop, clerk, openid):
    headers = factories.login(client, openid)
    order = pay(app, place(client, headers, shop, quantity=1).get_json()["order_no"], openid)
    code = code_for_order(order.id).code
    fresh()
    response = client.post("/api/v1/staff/pickups/redeem", headers=clerk.headers, json={"code": code})
    assert response.status_code == 200, response.get_json()
    return order, headers


def test_a_pickup_at_one_member_earns_a_coupon_for_another(client, app, shop, staff_member):
    coffee = shop
    bakery_id = factories.store("面包房")
    bakery = Shop(bakery_id, factories.product(specs=(("原味", 1500),), stock={bakery_id: 50}).sku_ids[0])
    alliance = create_alliance("街坊联盟")
    join(alliance.id, coffee.store_id, amount_fen=300, min_spend_fen=0, valid_days=7, budget_count=10,
         budget_fen=None)
    join(alliance.id, bakery.store_id, amount_fen=200, min_spend_fen=1000, valid_days=7, budget_count=1,
         budget_fen=None)
    db.session.commit()
    clerk = staff_member(coffee.store_id)

    order, headers = _pick_up(client, app, coffee, clerk, "alice")
    run_jobs(app)
    fresh()
    coupon = db.session.scalar(select(Coupon).where(Coupon.customer_id == customer_id("alice")))
    assert coupon is not None and coupon.source_order_id == order.id
    assert coupon.definition.funded_by_store_id == bakery.store_id and coupon.amount_fen == 200
    assert reward_pickup(order.id) == "repeat"
    # Valid at the bakery only.
    refused = place(client, headers, coffee, quantity=1, coupon_id=coupon.id)
    assert refused.get_json()["error"]["details"]["reason"] == "other_store"
    used = place(client, headers, bakery, quantity=1, coupon_id=coupon.id).get_json()
    assert (used["discount_fen"], used["payable_fen"]) == (200, 1300)

    # The bakery's budget was one coupon: the next customer gets none.
    other, _ = _pick_up(client, app, coffee, clerk, "bob")
    run_jobs(app)
    assert reward_pickup(other.id) == "none_available"
    fresh()
    assert db.session.scalar(select(CouponDefinition.issued_count).where(
        CouponDefinition.funded_by_store_id == bakery.store_id)) == 1


def test_a_member_below_the_thresholds_issues_nothing_and_sees_why(client, app, shop, staff_member):
    app.config["SUBSIDY_MIN_SAMPLE"] = 1
    bakery_id = factories.store("面包房")
    alliance = create_alliance("街坊联盟")
    for store_id in (shop.store_id, bakery_id):
        join(alliance.id, store_id, amount_fen=200, min_spend_fen=0, valid_days=7, budget_count=None,
             budget_fen=5000)
    db.session.commit()
    clerk = staff_member(shop.store_id)
    rated, _ = _pick_up(client, app, shop, clerk, "carol")
    # A 1-star rating of an order at the bakery puts its 30-day rating below 4.0.
    db.session.add(OrderRating(order_id=rated.id, customer_id=customer_id("carol"), store_id=bakery_id, stars=1))
    db.session.commit()
    order, _ = _pick_up(client, app, shop, clerk, "dave")
    run_jobs(app)
    fresh()
    assert db.session.scalar(select(Coupon.id).where(Coupon.customer_id == customer_id("dave"))) is None
    bakery_clerk = staff_member(bakery_id)
    service = client.get("/api/v1/staff/store/service", headers=bakery_clerk.headers).get_json()
    assert service["subsidy_allowed"] is False and "rating" in service["reasons"][0]
    assert service["thresholds"] == {"min_on_time_pct": 90, "min_rating": 4.0, "min_sample": 1}
