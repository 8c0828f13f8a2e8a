"""Console fixtures: an owner and a manager of one store, signed in through the real login form."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from app.extensions import db
from app.operators.accounts import create_user
from tests import factories

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Shops:
    store_a: int
    store_b: int
    sku_id: int


@pytest.fixture
def shops(app_ctx) -> Shops:
    a, b = factories.store("甲店"), factories.store("乙店")
    made = factories.product("拿铁", specs=(("中杯", 2800),), stock={a: 10, b: 5})
    return Shops(a, b, made.sku_ids[0])


@pytest.fixture
def make_user(app_ctx):
    def make(username: str, role: str, store_ids: list[int] | None = None, must_change: bool = False) -> int:
        user, _ = create_user(username, role, store_ids, password=PASSWORD, must_change=must_change)
        db.session.commit()
        return user.id
    return make


def csrf_token(client, path: str = "/console/login") -> str:
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def owner(client, make_user, shops):
    make_user("boss", "owner")
    assert sign_in(client, "boss").status_code == 302
    return client


@pytest.fixture
def manager_of_a(client, make_user, shops):
    make_user("alice", "manager", [shops.store_a])
    assert sign_in(client, "alice").status_code == 302
    return client


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form POST with the CSRF token of the signed-in session."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/console/today")}, **kwargs)


from tests.pickup.conftest import Shop, paid_order, run_jobs  # noqa: E402,F401  (the pickup suite's fixtures)


@pytest.fixture
def paid_at(paid_order, shops):
    """paid_at(store_id) -> PaidOrder: an order placed and paid at that store through the API."""
    return lambda store_id, openid="alice": paid_order(Shop(store_id, shops.sku_id), openid)
