"""Ratings: once per picked-up order, by its customer, within 7 days; bad input is 400; low ones reach managers;
the store's 30-day average is public."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OrderEvent, OrderRating
from tests import factories
from tests.promises.conftest import fresh, pay, place


@pytest.fixture
def picked_up(client, shop, app, staff_member):
    headers = factories.login(client, "alice")
    order = pay(app, place(client, headers, shop).get_json()["order_no"])
    clerk = staff_member(shop.store_id)
    from app.pickup.codes import code_for_order

    code = code_for_order(order.id).code
    fresh()
    redeemed = client.post("/api/v1/staff/pickups/redeem", headers=clerk.headers, json={"code": code})
    assert redeemed.status_code == 200, redeemed.get_json()
    return order.order_no, headers


def _rate(client, order_no, headers, **body):
    return client.post(f"/api/v1/orders/{order_no}/rating", headers=headers, json=body)


def test_rate_once_and_the_store_shows_it(client, shop, picked_up, staff_member):
    order_no, headers = picked_up
    response = _rate(client, order_no, headers, stars=2, tags=["慢", "凉了"], comment="等了很久")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["flagged"] is True
    again = _rate(client, order_no, headers, stars=5)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_rated"
    service = client.get(f"/api/v1/stores/{shop.store_id}").get_json()["service"]
    assert (service["rating"], service["ratings"]) == (2.0, 1)

    manager = staff_member(shop.store_id, role="manager")
    flagged = client.get("/api/v1/staff/ratings?flagged=1", headers=manager.headers).get_json()
    assert [(r["order_no"], r["stars"], r["tags"]) for r in flagged["items"]] == [(order_no, 2, ["慢", "凉了"])]
    clerk = staff_member(shop.store_id)
    assert client.get("/api/v1/staff/ratings", headers=clerk.headers).status_code == 403


@pytest.mark.parametrize("body", [{"stars": 0}, {"stars": 6}, {"stars": "5"}, {"stars": 4.5}, {},
                                  {"stars": 5, "comment": "好" * 201}, {"stars": 5, "tags": "好"},
                                  {"stars": 5, "tags": ["a"] * 6}, {"stars": 5, "tags": [""]},
                                  {"stars": 5, "tags": ["x" * 21]}, {"stars": 5, "tags": [1]}])
def test_bad_ratings_are_400(client, picked_up, body):
    order_no, headers = picked_up
    assert _rate(client, order_no, headers, **body).status_code == 400
    fresh()
    assert db.session.scalar(select(OrderRating.id)) is None


def test_only_the_customers_own_picked_up_order_within_7_days(client, shop, app, picked_up):
    order_no, headers = picked_up
    bob = factories.login(client, "bob")
    assert _rate(client, order_no, bob, stars=5).status_code == 404
    unpicked = pay(app, place(client, headers, shop).get_json()["order_no"])
    not_yet = _rate(client, unpicked.order_no, headers, stars=5)
    assert not_yet.status_code == 409 and not_yet.get_json()["error"]["code"] == "order_not_rateable"
    fresh()
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.to_status == "picked_up"))
    event.created_at -= timedelta(days=8)
    db.session.commit()
    late = _rate(client, order_no, headers, stars=5)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "rating_window_closed"
    assert _rate(client, "nope", headers, stars=5).status_code == 404
