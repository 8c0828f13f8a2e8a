"""Finding 5: the QR token carries no code, lives minutes and works once; an unknown code and another store's code
get the same 404, and both count against the guess limits, now also per client address."""
import base64
import binascii

from app.extensions import db
from app.models import PickupAttempt
from app.pickup.qr import QR_TOKEN_TTL_S

LOOKUP, REDEEM = "/api/v1/staff/pickups/lookup", "/api/v1/staff/pickups/redeem"


def qr_token(client, order) -> dict:
    response = client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def decodings(token: str) -> list[bytes]:
    """Everything a photo of the QR could be decoded into: the token itself and each part as base64."""
    found = [token.encode()]
    for part in token.replace(".", " ").replace("-", "+").replace("_", "/").split():
        try:
            found.append(base64.b64decode(part + "=" * (-len(part) % 4)))
        except (binascii.Error, ValueError):
            pass
    return found


def test_the_qr_token_carries_no_code_and_no_order_number(client, app_ctx, shop, paid_order):
    order = paid_order(shop)
    body = qr_token(client, order)
    for decoded in decodings(body["qr_token"]):
        assert order.code.encode() not in decoded and order.order_no.encode() not in decoded
    assert QR_TOKEN_TTL_S <= 300


def test_the_qr_token_works_once_and_only_the_latest_one_works(client, app_ctx, shop, paid_order, staff_member):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    older = qr_token(client, order)["qr_token"]
    token = qr_token(client, order)["qr_token"]
    refused = client.post(REDEEM, headers=staff.headers, json={"qr_token": older})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "qr_token_invalid"
    assert client.post(LOOKUP, headers=staff.headers, json={"qr_token": token}).status_code == 200  # preview
    assert client.post(REDEEM, headers=staff.headers, json={"qr_token": token}).status_code == 200
    again = client.post(REDEEM, headers=staff.headers, json={"qr_token": token})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_redeemed"


def test_another_stores_code_is_answered_exactly_like_an_unknown_one(client, app_ctx, shop, paid_order,
                                                                   staff_member):
    from tests import factories

    order = paid_order(shop)
    stranger = staff_member(factories.store())
    foreign = client.post(LOOKUP, headers=stranger.headers, json={"code": order.code})
    unknown_code = "000000000000" if order.code != "000000000000" else "000000000001"
    unknown = client.post(LOOKUP, headers=stranger.headers, json={"code": unknown_code})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json() == unknown.get_json()
    token = qr_token(client, order)["qr_token"]
    foreign_qr = client.post(REDEEM, headers=stranger.headers, json={"qr_token": token})
    unknown_qr = client.post(REDEEM, headers=stranger.headers, json={"qr_token": "mmqr1." + "A" * 32})
    assert foreign_qr.status_code == unknown_qr.status_code == 400
    assert foreign_qr.get_json() == unknown_qr.get_json()
    db.session.rollback()
    outcomes = [a.outcome for a in db.session.query(PickupAttempt).order_by(PickupAttempt.id)]
    assert outcomes == ["wrong_store", "pickup_not_found", "wrong_store", "qr_token_invalid"]  # the log knows


def test_guesses_count_per_client_address_across_stores(client, app_ctx, app, shop, staff_member):
    from app.ratelimit import pickup_limits
    from tests import factories

    address_limit = [limit for limit in pickup_limits(1, 1, "192.0.2.1") if limit.key.startswith("pickup:addr:")]
    assert address_limit and address_limit[0].limit == 120
    # seats of many stores guessing from one address: each seat is far under its own limit, the address is not
    app.config["PROXY_HOPS"] = 0
    guesses = 0
    for _ in range(14):
        seat = staff_member(factories.store())
        for _ in range(9):
            response = client.post(LOOKUP, headers=seat.headers, json={"code": f"{guesses:012d}"},
                                   environ_base={"REMOTE_ADDR": "192.0.2.7"})
            guesses += 1
            if response.status_code == 429:
                assert guesses == 121 and response.headers["Retry-After"]
                return
    raise AssertionError("the address limit never applied")
