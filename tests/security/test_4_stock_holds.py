"""Finding 4: one account cannot hold a store's stock with unpaid orders: at most MAX_UNPAID_ORDERS at once (409),
at most ORDERS_PER_CUSTOMER_PER_MINUTE placements a minute (429 with Retry-After); nginx limits order creation per
client address."""
from pathlib import Path

import pytest
import requests

from app import token_cache
from app.extensions import db, redis_client
from app.models import Order, StoreStock
from tests import factories
from tests.checkout.conftest import live  # noqa: F401  (the fixture: the app on a loopback port)
from tests.conftest import mariadb_only
from tests.race import run_together

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def order_body(shop, quantity=99):
    return {"store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": quantity}]}


def test_a_customer_holds_at_most_three_unpaid_orders(client, app_ctx, shop):
    headers = factories.login(client, "hoarder")
    for _ in range(3):
        assert client.post("/api/v1/orders", headers=headers, json=order_body(shop, 10)).status_code == 201
    refused = client.post("/api/v1/orders", headers=headers, json=order_body(shop, 10))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "too_many_unpaid_orders"
    db.session.rollback()
    assert db.session.query(Order).count() == 3
    assert db.session.query(StoreStock).filter_by(sku_id=shop.sku_id).one().quantity == 70
    # cancelling one frees a slot; another customer is not affected at all
    first = db.session.query(Order).order_by(Order.id).first().order_no
    assert client.post(f"/api/v1/orders/{first}/cancel", headers=headers).status_code == 200
    assert client.post("/api/v1/orders", headers=headers, json=order_body(shop, 1)).status_code == 201
    assert client.post("/api/v1/orders", headers=factories.login(client, "bob"),
                       json=order_body(shop, 1)).status_code == 201


def test_order_placement_is_rate_limited_per_customer(client, app_ctx, app, shop):
    app.config.update(MAX_UNPAID_ORDERS=100, ORDERS_PER_CUSTOMER_PER_MINUTE=4)
    headers = factories.login(client, "cycler")
    for _ in range(2):  # cancel-and-reorder is placements too
        made = client.post("/api/v1/orders", headers=headers, json=order_body(shop, 1))
        assert made.status_code == 201
        client.post(f"/api/v1/orders/{made.get_json()['order_no']}/cancel", headers=headers)
    for _ in range(2):
        assert client.post("/api/v1/orders", headers=headers, json=order_body(shop, 1)).status_code == 201
    limited = client.post("/api/v1/orders", headers=headers, json=order_body(shop, 1))
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


@pytest.mark.parametrize("needle", ["zone=micromall_orders", "location = /api/v1/orders"])
def test_nginx_limits_order_creation_per_client_address(needle):
    text = NGINX_CONF.read_text()
    assert needle in text
    assert "limit_req_zone $micromall_order_placement zone=micromall_orders" in text


@mariadb_only
@pytest.mark.parametrize("token_cached", [True, False], ids=["token-cached", "token-read-first"])
def test_the_unpaid_cap_holds_for_placements_at_the_same_instant(app_ctx, client, live, backend, shop, token_cached):
    """Two unpaid orders, then six placements at once with one token, each with its own Idempotency-Key: one
    passes. Each placement reads the customer's earlier orders only after taking the customer's row lock, so its
    snapshot sees the orders committed by those that held it before (app/orders/placement._lock_customer); when
    the token had to be read from the database first, that read is committed before the lock."""
    headers = factories.login(client, "racer")
    for _ in range(2):
        assert client.post("/api/v1/orders", headers=headers, json=order_body(shop, 1)).status_code == 201
    db.session.commit()
    if not token_cached:
        redis = redis_client()
        redis.delete(*redis.keys(f"{token_cache.PREFIX}*"))

    def place(n: int):
        return requests.post(f"{live.base_url}/api/v1/orders", json=order_body(shop, 1), timeout=30,
                             headers={**headers, "Idempotency-Key": f"race-{n}"}).status_code

    statuses = run_together([lambda n=n: place(n) for n in range(6)])
    assert sorted(statuses) == [201] + [409] * 5
    db.session.rollback()
    assert db.session.query(Order).filter_by(status="pending_payment").count() == 3
