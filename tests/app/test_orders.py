"""Placing orders: prices from the server, stock reserved all-or-nothing, idempotency, ownership, cancellation."""
from datetime import timedelta, timezone

import pytest

from app.extensions import db
from app.models import Order, OrderEvent, StoreStock, utcnow
from app.stores.hours import WEEKDAYS, format_minute, local_now
from tests import factories
from tests.race import run_together
from tests.conftest import mariadb_only


def stock(store_id, sku_id):
    db.session.expire_all()
    return db.session.get(StoreStock, (store_id, sku_id)).quantity


@pytest.fixture
def shop(app_ctx):
    store_id = factories.store()
    latte = factories.product("拿铁", specs=(("中杯", 2800), ("大杯", 3200)), stock={store_id: 10})
    return store_id, latte


def test_place_order_prices_from_the_server_and_reserves_stock(client, shop):
    store_id, latte = shop
    headers = factories.login(client)
    response = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "remark": "少冰",
        "items": [{"sku_id": latte.sku_ids[0], "quantity": 2}, {"sku_id": latte.sku_ids[1], "quantity": 1},
                  {"sku_id": latte.sku_ids[0], "quantity": 1, "price_fen": 1}]})  # a client price is ignored
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "pending_payment"
    assert order["total_fen"] == 3 * 2800 + 3200
    assert order["store"]["id"] == store_id
    assert order["items"] == [
        {"sku_id": latte.sku_ids[0], "product_id": latte.product_id, "title": "拿铁", "spec": "中杯",
         "unit_price_fen": 2800, "quantity": 3},
        {"sku_id": latte.sku_ids[1], "product_id": latte.product_id, "title": "拿铁", "spec": "大杯",
         "unit_price_fen": 3200, "quantity": 1}]
    assert order["expires_at"] > order["created_at"]
    assert order["order_no"].isdigit() and len(order["order_no"]) == 16
    assert stock(store_id, latte.sku_ids[0]) == 7 and stock(store_id, latte.sku_ids[1]) == 9
    events = db.session.query(OrderEvent).all()
    assert [(e.from_status, e.to_status, e.reason) for e in events] == [(None, "pending_payment", "placed")]


def test_insufficient_stock_names_the_sku_and_changes_nothing(client, shop):
    store_id, latte = shop
    headers = factories.login(client)
    factories.product("可颂", stock={store_id: 1})
    response = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id,
        "items": [{"sku_id": latte.sku_ids[0], "quantity": 5}, {"sku_id": latte.sku_ids[1], "quantity": 11}]})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"sku_id": latte.sku_ids[1], "requested": 11, "available": 10}
    # the first line, reserved before the second failed, is untouched
    assert stock(store_id, latte.sku_ids[0]) == 10
    assert db.session.query(Order).count() == 0 and db.session.query(OrderEvent).count() == 0


def test_sku_not_sold_at_the_store_and_closed_store(client, shop):
    store_id, latte = shop
    other = factories.store()
    headers = factories.login(client)
    response = client.post("/api/v1/orders", headers=headers,
                           json={"store_id": other, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "sku_unavailable"
    closed = factories.store(hours="mon 03:00-03:01")
    factories.product(stock={closed: 5})
    response = client.post("/api/v1/orders", headers=headers,
                           json={"store_id": closed, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "store_closed"
    assert client.post("/api/v1/orders", headers=headers, json={
        "store_id": 99999, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]}).status_code == 404


def test_an_interval_from_yesterday_past_midnight_keeps_a_store_open(client, app, app_ctx, monkeypatch):
    """A placement reads only the store's intervals of today and yesterday (app/orders/placement._read_context):
    one that began yesterday and runs past midnight keeps the store open now; one of tomorrow's does not. The
    placement's clock is set to 01:00 local today, past midnight whenever the test runs."""
    import app.orders.placement as placement

    now = local_now(app.config["STORE_TIMEZONE"]).replace(hour=1, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(placement, "utcnow", lambda: now.astimezone(timezone.utc))
    minute = now.hour * 60 + now.minute
    yesterday, tomorrow = WEEKDAYS[(now.weekday() - 1) % 7], WEEKDAYS[(now.weekday() + 1) % 7]
    headers = factories.login(client)
    for hours, status in ((f"{yesterday} 23:59-{format_minute(minute + 30)}", 201),
                          (f"{tomorrow} 00:00-24:00", 409)):
        store_id = factories.store(hours=hours)
        sku_id = factories.product(stock={store_id: 5}).sku_ids[0]
        response = client.post("/api/v1/orders", headers=headers,
                               json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]})
        assert response.status_code == status, (hours, response.get_json())


def test_a_repeated_idempotency_key_makes_no_second_order(client, shop):
    store_id, latte = shop
    headers = {**factories.login(client), "Idempotency-Key": "checkout-1"}
    body = {"store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 2}]}
    first = client.post("/api/v1/orders", headers=headers, json=body)
    second = client.post("/api/v1/orders", headers=headers, json=body)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert db.session.query(Order).count() == 1 and stock(store_id, latte.sku_ids[0]) == 8
    other = client.post("/api/v1/orders", headers=headers, json={**body, "remark": "different"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    # the same key from another customer is another order
    bob = {**factories.login(client, "bob"), "Idempotency-Key": "checkout-1"}
    assert client.post("/api/v1/orders", headers=bob, json=body).get_json()["order_no"] != first.get_json()["order_no"]


def test_another_customers_order_is_404(client, shop):
    store_id, latte = shop
    alice, bob = factories.login(client, "alice"), factories.login(client, "bob")
    order_no = client.post("/api/v1/orders", headers=alice, json={
        "store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]}).get_json()["order_no"]
    for response in (client.get(f"/api/v1/orders/{order_no}", headers=bob),
                     client.post(f"/api/v1/orders/{order_no}/cancel", headers=bob)):
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/orders", headers=bob).get_json()["total"] == 0
    assert client.get("/api/v1/orders", headers=alice).get_json()["items"][0]["order_no"] == order_no
    assert client.get(f"/api/v1/orders/{order_no}", headers=alice).status_code == 200
    assert stock(store_id, latte.sku_ids[0]) == 9


def test_list_orders_filters_by_status(client, shop):
    store_id, latte = shop
    headers = factories.login(client)
    numbers = [client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]}).get_json()["order_no"]
        for _ in range(3)]
    client.post(f"/api/v1/orders/{numbers[0]}/cancel", headers=headers)
    listed = client.get("/api/v1/orders?status=pending_payment", headers=headers).get_json()
    assert [o["order_no"] for o in listed["items"]] == numbers[:0:-1]  # newest first
    assert client.get("/api/v1/orders?status=cancelled", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/orders?status=bogus", headers=headers).status_code == 400


def test_cancel_releases_stock_once_and_a_second_cancel_is_409(client, shop):
    store_id, latte = shop
    headers = factories.login(client)
    order_no = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 4}]}).get_json()["order_no"]
    assert stock(store_id, latte.sku_ids[0]) == 6
    response = client.post(f"/api/v1/orders/{order_no}/cancel", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert stock(store_id, latte.sku_ids[0]) == 10
    again = client.post(f"/api/v1/orders/{order_no}/cancel", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
    assert stock(store_id, latte.sku_ids[0]) == 10


def test_ordering_removes_the_bought_lines_from_the_cart(client, shop):
    store_id, latte = shop
    headers = factories.login(client)
    for sku_id in latte.sku_ids:
        client.put("/api/v1/cart/items", headers=headers, json={"store_id": store_id, "sku_id": sku_id, "quantity": 2})
    client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 2}]})
    cart = client.get(f"/api/v1/cart?store_id={store_id}", headers=headers).get_json()
    assert [i["sku_id"] for i in cart["items"]] == [latte.sku_ids[1]]


@mariadb_only
def test_many_buyers_of_the_last_units_get_exactly_the_stock(app):
    """On MariaDB: 30 customers at once for the last 10 units; exactly 10 orders, stock 0, 20 told why."""
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 10})
    client = app.test_client()
    headers = [factories.login(client, f"buyer{i}") for i in range(30)]

    def buy(h):
        return lambda: app.test_client().post("/api/v1/orders", headers=h, json={
            "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 1}]})

    responses = run_together([buy(h) for h in headers])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 20
    assert all(r.get_json()["error"]["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    with app.app_context():
        assert stock(store_id, made.sku_ids[0]) == 0
        assert db.session.query(Order).count() == 10


@mariadb_only
def test_concurrent_repeats_of_one_idempotency_key_make_one_order(app):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 10})
    headers = {**factories.login(app.test_client()), "Idempotency-Key": "double-tap"}
    body = {"store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 3}]}
    responses = run_together([lambda: app.test_client().post("/api/v1/orders", headers=headers, json=body)] * 8)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["order_no"] for r in responses}) == 1
    with app.app_context():
        assert db.session.query(Order).count() == 1
        assert stock(store_id, made.sku_ids[0]) == 7


def test_cancel_and_expiry_racing_release_stock_once(app, backend):
    from app.orders.cancellation import expire_order

    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 50})
    client = app.test_client()
    headers = factories.login(client)
    for _ in range(5):
        order_no = client.post("/api/v1/orders", headers=headers, json={
            "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 5}]}).get_json()["order_no"]
        with app.app_context():
            order = db.session.query(Order).filter_by(order_no=order_no).one()
            order.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            order_id = order.id

        def expire():
            with app.app_context():
                expired = expire_order(order_id)
                db.session.commit()  # expire_order flushes; its job commits
                return expired

        cancel = lambda: app.test_client().post(f"/api/v1/orders/{order_no}/cancel", headers=headers).status_code
        expired, cancelled = run_together([expire, cancel])
        assert (expired, cancelled) in ((True, 409), (False, 200))
        with app.app_context():
            assert stock(store_id, made.sku_ids[0]) == 50
            events = db.session.query(OrderEvent).filter_by(order_id=order_id, to_status="cancelled").count()
            assert events == 1


@mariadb_only
def test_a_sold_out_sku_is_refused_from_redis_until_stock_comes_back(client, app_ctx, backend):
    """The rush's losers are answered from a Redis marker set when the stock was found at 0; every way stock comes
    back (a cancelled order's release, the owner's count) clears it after its commit, so an order is never refused
    while stock exists."""
    from app.catalog.admin import set_stock
    from app.extensions import redis_client
    from tests.perf.conftest import counting

    store_id = factories.store()
    sku_id = factories.product(stock={store_id: 1}).sku_ids[0]
    buyer, second, third = (factories.login(client, name) for name in ("sold1", "sold2", "sold3"))
    body = {"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]}

    def place(headers):
        return client.post("/api/v1/orders", headers=headers, json=body)

    first = place(buyer)
    assert first.status_code == 201
    assert place(second).get_json()["error"]["code"] == "insufficient_stock"  # the database says so, and marks it
    assert any(k.endswith(f"sold_out:{store_id}:{sku_id}".encode()) for k in redis_client().keys())
    with counting() as seen:
        refused = place(second)
    assert refused.status_code == 409 and refused.get_json()["error"] == {
        "code": "insufficient_stock", "message": refused.get_json()["error"]["message"],
        "details": {"sku_id": sku_id, "requested": 1, "available": 0}}
    assert len(seen) == 0  # the customer by token from the token cache, the SKU from the marker: no statement at all
    # the first buyer cancels: its unit is back, and so is the SKU
    assert client.post(f"/api/v1/orders/{first.get_json()['order_no']}/cancel", headers=buyer).status_code == 200
    assert place(second).status_code == 201
    assert place(third).status_code == 409  # sold out again (found by the database, marked again)
    set_stock(store_id, sku_id, 3)  # the owner's count (console, CLI, import)
    db.session.commit()
    assert place(third).status_code == 201
    assert stock(store_id, sku_id) == 2


def test_an_order_number_already_taken_answers_503_and_writes_nothing(client, shop, monkeypatch):
    """Order numbers are not looked up before the INSERT (app/orders/numbers.py): the unique key refuses a taken
    one, and the client is told to try again; its stock stays where it was."""
    store_id, latte = shop
    headers = factories.login(client)
    body = {"store_id": store_id, "items": [{"sku_id": latte.sku_ids[0], "quantity": 1}]}
    first = client.post("/api/v1/orders", headers=headers, json=body)
    assert first.status_code == 201
    monkeypatch.setattr("app.orders.placement.new_order_no", lambda now: first.get_json()["order_no"])
    clash = client.post("/api/v1/orders", headers=headers, json=body)
    assert clash.status_code == 503 and clash.headers["Retry-After"] == "1"
    assert clash.get_json()["error"]["code"] == "service_unavailable"
    assert stock(store_id, latte.sku_ids[0]) == 9
    assert db.session.query(Order).count() == 1
