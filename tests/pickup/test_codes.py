"""Pickup codes and QR tokens: issued at payment, shown to the customer, forged or stale tokens refused."""
import re
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import Order, PickupAttempt, PickupCode
from app.pickup import codes
from app.pickup.codes import format_code, issue_for_order, normalize_code, revoke_for_order
from app.pickup import qr
from app.pickup.qr import QR_TOKEN_TTL_S
from tests import factories


def test_a_paid_order_has_a_code_and_a_qr_token(client, shop, paid_order, app_ctx):
    order = paid_order(shop)
    assert re.fullmatch(r"[0-9]{12}", order.code)
    response = client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["code"] == format_code(order.code) and re.fullmatch(r"\d{4} \d{4} \d{4}", body["code"])
    assert body["store"]["id"] == shop.store_id and body["store"]["name"]
    assert body["qr_token"]
    now = datetime.now().astimezone()
    qr_expires = datetime.fromisoformat(body["qr_expires_at"])
    assert timedelta(seconds=QR_TOKEN_TTL_S - 5) < qr_expires - now <= timedelta(seconds=QR_TOKEN_TTL_S)
    pickup = db.session.query(PickupCode).filter_by(order_id=order.order_id).one()
    paid_at = db.session.get(Order, order.order_id).payment.paid_at
    assert pickup.expires_at == paid_at + timedelta(hours=app_ctx.config["PICKUP_WINDOW_H"])
    assert datetime.fromisoformat(body["pickup_deadline"]) == pickup.expires_at
    assert pickup.store_id == shop.store_id


def test_codes_are_unique_and_a_collision_draws_again(shop, paid_order, app_ctx, monkeypatch):
    first = paid_order(shop)
    order = db.session.get(Order, paid_order(shop, "bob").order_id)
    db.session.delete(db.session.query(PickupCode).filter_by(order_id=order.id).one())
    db.session.flush()
    draws = iter([first.code, first.code, "000000000042", "000000000043"])
    monkeypatch.setattr(codes, "_draw", lambda: next(draws))
    assert issue_for_order(order).code == "000000000042"
    # Again: the same code, not a second one (the fresh draw's INSERT finds the order's code by its unique key).
    assert issue_for_order(order).code == "000000000042"
    db.session.commit()
    assert db.session.query(PickupCode).filter_by(order_id=order.id).count() == 1


def test_revoke_is_idempotent_and_a_no_op_without_a_code(client, shop, paid_order, app_ctx):
    order = db.session.get(Order, paid_order(shop).order_id)
    assert revoke_for_order(order) is True
    assert revoke_for_order(order) is False
    db.session.commit()
    headers = factories.login(client, "carol")
    unpaid = client.post("/api/v1/orders", headers=headers, json={
        "store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}]}).get_json()
    assert revoke_for_order(db.session.query(Order).filter_by(order_no=unpaid["order_no"]).one()) is False


def test_the_pickup_of_unpaid_others_and_revoked_orders(client, shop, paid_order, app_ctx):
    order = paid_order(shop)
    other = factories.login(client, "mallory")
    assert client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=other).status_code == 404
    assert client.get("/api/v1/orders/not-a-number/pickup", headers=other).status_code == 404
    assert client.get(f"/api/v1/orders/{order.order_no}/pickup").status_code == 401
    unpaid = client.post("/api/v1/orders", headers=other, json={
        "store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}]}).get_json()
    response = client.get(f"/api/v1/orders/{unpaid['order_no']}/pickup", headers=other)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "order_not_redeemable"
    revoke_for_order(db.session.get(Order, order.order_id))
    db.session.commit()
    response = client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "order_not_redeemable"


@pytest.mark.parametrize("typed", ["1234 5678 9012", "1234-5678-9012", " 123456789012 "])
def test_typed_codes_are_normalized(typed):
    assert normalize_code(typed) == "123456789012"


@pytest.mark.parametrize("typed", ["12345678901", "1234567890123", "12345678901x", "١٢٣٤٥٦٧٨٩٠١٢", ""])
def test_malformed_typed_codes(typed):
    assert normalize_code(typed) is None


def _token(client, order):
    return client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers).get_json()["qr_token"]


def _redeem_qr(client, staff, token):
    return client.post("/api/v1/staff/pickups/redeem", headers=staff.headers, json={"qr_token": token})


def test_a_fresh_qr_token_redeems(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    response = _redeem_qr(client, staff, _token(client, order))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["order_no"] == order.order_no and response.get_json()["status"] == "picked_up"


def test_forged_tampered_and_foreign_qr_tokens_are_refused(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    token = _token(client, order)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    replaced = token
    assert _token(client, order) != replaced  # a new token replaces the old one
    for bad in (tampered, replaced, order.code, "garbage", token[:-3]):
        response = _redeem_qr(client, staff, bad)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"]["code"] == "qr_token_invalid"
        assert "order_no" not in response.get_data(as_text=True)
    assert db.session.get(Order, order.order_id).status == "paid"
    outcomes = [a.outcome for a in db.session.query(PickupAttempt).order_by(PickupAttempt.id)]
    assert outcomes == ["qr_token_invalid"] * 5


def test_an_expired_qr_token_is_refused(client, shop, paid_order, staff_member, app_ctx, monkeypatch):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    real = qr.utcnow
    monkeypatch.setattr(qr, "utcnow", lambda: real() - timedelta(seconds=QR_TOKEN_TTL_S + 1))
    stale = _token(client, order)
    monkeypatch.setattr(qr, "utcnow", real)
    response = _redeem_qr(client, staff, stale)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "qr_token_expired"
    response = client.post("/api/v1/staff/pickups/lookup", headers=staff.headers, json={"qr_token": stale})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "qr_token_expired"
    assert db.session.get(Order, order.order_id).status == "paid"
    assert _redeem_qr(client, staff, _token(client, order)).status_code == 200  # the refreshed one works
