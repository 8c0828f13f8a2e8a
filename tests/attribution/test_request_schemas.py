"""The staff's commission operations validate by schema (docs/api-schemas.md) after authentication: no token is a
401 and a clerk at a manager's operation a 403 whatever the body; then a bad body or query is a 400 naming the
fields. The seat's code keeps its media type and cache header through the schema layer."""
from __future__ import annotations

ADJUST, PAYOUTS, STATS = "/api/v1/staff/commission/adjustments", "/api/v1/staff/payouts", "/api/v1/staff/me/stats"
BAD = {"seat_id": "1", "amount_fen": 1.5, "reason": ""}


def test_who_calls_is_checked_before_what_they_send(client, shop, staff_member, app_ctx):
    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    for path in (ADJUST, PAYOUTS):
        assert client.post(path, json=BAD).status_code == 401
        assert client.post(path, headers=clerk.headers, json=BAD).status_code == 403
        error = client.post(path, headers=manager.headers, json=BAD).get_json()["error"]
        assert error["code"] == "invalid_request" and "seat_id" in error["details"]["fields"], path
    assert set(client.post(ADJUST, headers=manager.headers, json=BAD).get_json()["error"]["details"]["fields"]) == {
        "seat_id", "amount_fen", "reason"}
    assert client.get(f"{STATS}?from=yesterday").status_code == 401
    error = client.get(f"{STATS}?from=yesterday", headers=clerk.headers).get_json()["error"]
    assert set(error["details"]["fields"]) == {"from"}


def test_the_seats_code_is_a_jpeg_with_its_cache_header(client, shop, staff_member, sandbox, app_ctx):
    response = client.get("/api/v1/staff/me/code", headers=staff_member(shop.store_id).headers)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=300" and response.data[:3] == b"\xff\xd8\xff"
