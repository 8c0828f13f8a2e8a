"""Query parameters (and a body's choice of role) are trimmed of surrounding blanks before they are checked, as
params.query_str and body_str did before the views were declared by schema: `?status=paid%20` is `paid`, not a
400."""
from __future__ import annotations

import pytest

from tests import factories
from tests.pickup.conftest import shop, staff_member  # noqa: F401 (fixtures)


@pytest.mark.parametrize("query", ["status=paid%20", "status=%20ready"])
def test_the_counters_waiting_list(client, shop, staff_member, query):  # noqa: F811
    response = client.get(f"/api/v1/staff/pickups?{query}", headers=staff_member(shop.store_id).headers)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("path", ["/api/v1/staff/leaderboard?period=month%20", "/api/v1/staff/ratings?flagged=1%20"])
def test_the_staff_figures(client, shop, staff_member, path):  # noqa: F811
    response = client.get(path, headers=staff_member(shop.store_id, "manager").headers)
    assert response.status_code == 200, response.get_json()


def test_the_customers_coupons(client, app_ctx):
    response = client.get("/api/v1/me/coupons?state=available%20", headers=factories.login(client))
    assert response.status_code == 200, response.get_json()


def test_an_invites_role_is_trimmed_as_before(client, shop, staff_member):  # noqa: F811
    # params.body_str stripped every string before its check; the role's choice is checked after the trim too.
    response = client.post("/api/v1/staff/invites", headers=staff_member(shop.store_id, "manager").headers,
                           json={"role": " manager ", "name": "小王"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["seat"]["role"] == "manager"
