"""Bad input on every endpoint gets the error envelope with a 4xx, never a 500, never a half-written order."""
import pytest

from app.extensions import db
from app.models import CartItem, Order, StoreStock
from tests import factories

GARBAGE_BODIES = [
    b"", b"not json", b"[1, 2]", b'"text"', b"{", b"\xff\xfe", b"null",
    b'{"code": 5}', b'{"code": ""}', b'{"code": "' + b"x" * 500 + b'"}',
]


def assert_envelope(response, status=None):
    assert response.status_code < 500, response.get_data(as_text=True)
    assert 400 <= response.status_code
    if status:
        assert response.status_code == status
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


@pytest.mark.parametrize("body", GARBAGE_BODIES)
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/me/phone"])
def test_garbage_to_code_endpoints(client, app_ctx, path, body):
    headers = {"Content-Type": "application/json", **factories.login(client)}
    assert_envelope(client.post(path, data=body, headers=headers), 400)


def test_malformed_json_names_the_field(client):
    error = assert_envelope(client.post("/api/v1/auth/login", data=b"{oops", content_type="application/json"), 400)
    assert error["code"] == "invalid_request" and "body" in error["details"]["fields"]
    error = assert_envelope(client.post("/api/v1/auth/login", json={"code": 12}), 400)
    assert "code" in error["details"]["fields"]


ORDER_BODIES = [
    {}, {"store_id": "1", "items": []}, {"store_id": 1}, {"store_id": 1, "items": "many"},
    {"store_id": 1, "items": [5]}, {"store_id": 1, "items": [{"sku_id": 1}]},
    {"store_id": 1, "items": [{"sku_id": 1, "quantity": 0}]}, {"store_id": 1, "items": [{"sku_id": 1, "quantity": -1}]},
    {"store_id": 1, "items": [{"sku_id": 1, "quantity": 100}]}, {"store_id": 1, "items": [{"sku_id": 1, "quantity": 1.5}]},
    {"store_id": 1, "items": [{"sku_id": True, "quantity": 1}]}, {"store_id": 2**70, "items": [{"sku_id": 1, "quantity": 1}]},
    {"store_id": 1, "items": [{"sku_id": 1, "quantity": 60}, {"sku_id": 1, "quantity": 60}]},
    {"store_id": 1, "items": [{"sku_id": i, "quantity": 1} for i in range(1, 60)]},
    {"store_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "remark": "x" * 201},
    {"store_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "remark": 7},
    {"store_id": 0, "items": [{"sku_id": 1, "quantity": 1}]},
]


@pytest.mark.parametrize("body", ORDER_BODIES)
def test_bad_orders_write_nothing(client, app_ctx, body):
    store_id = factories.store()
    made = factories.product(stock={store_id: 5})
    headers = factories.login(client)
    body = {**body, "store_id": store_id} if body.get("store_id") == 1 else body
    if isinstance(body.get("items"), list):
        body["items"] = [{**i, "sku_id": made.sku_ids[0]} if isinstance(i, dict) and type(i.get("sku_id")) is int else i
                         for i in body["items"]]
    assert_envelope(client.post("/api/v1/orders", json=body, headers=headers))
    assert db.session.query(Order).count() == 0
    db.session.expire_all()
    assert db.session.get(StoreStock, (store_id, made.sku_ids[0])).quantity == 5


@pytest.mark.parametrize("headers", [{"Idempotency-Key": ""}, {"Idempotency-Key": "x" * 65},
                                     {"Idempotency-Key": "has space"}])
def test_bad_idempotency_keys(client, app_ctx, headers):
    store_id = factories.store()
    made = factories.product(stock={store_id: 5})
    error = assert_envelope(client.post("/api/v1/orders", headers={**factories.login(client), **headers},
                                        json={"store_id": store_id,
                                              "items": [{"sku_id": made.sku_ids[0], "quantity": 1}]}), 400)
    assert "Idempotency-Key" in error["details"]["fields"]


CART_CASES = [
    ("put", "/api/v1/cart/items", {"store_id": 1, "sku_id": 1, "quantity": 0}),
    ("put", "/api/v1/cart/items", {"store_id": 1, "sku_id": 1, "quantity": 100}),
    ("put", "/api/v1/cart/items", {"store_id": 1, "sku_id": "x", "quantity": 1}),
    ("put", "/api/v1/cart/items", {"store_id": 1}),
    ("put", "/api/v1/cart/items", {"store_id": 424242, "sku_id": 1, "quantity": 1}),
    ("put", "/api/v1/cart/items", {"store_id": 1, "sku_id": 424242, "quantity": 1}),
    ("get", "/api/v1/cart", None), ("get", "/api/v1/cart?store_id=abc", None), ("get", "/api/v1/cart?store_id=0", None),
    ("delete", "/api/v1/cart/items/1", None), ("delete", "/api/v1/cart/items/1?store_id=-1", None),
]


@pytest.mark.parametrize("method, path, body", CART_CASES)
def test_bad_cart_requests(client, app_ctx, method, path, body):
    factories.store()
    headers = factories.login(client)
    assert_envelope(getattr(client, method)(path, json=body, headers=headers))
    assert db.session.query(CartItem).count() == 0


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/me"), ("post", "/api/v1/me/phone"), ("get", "/api/v1/cart?store_id=1"),
    ("put", "/api/v1/cart/items"), ("delete", "/api/v1/cart/items/1?store_id=1"), ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders"), ("get", "/api/v1/orders/123"), ("post", "/api/v1/orders/123/cancel"),
])
def test_every_customer_endpoint_needs_a_token(client, method, path):
    assert assert_envelope(getattr(client, method)(path, json={}), 401)["code"] == "unauthenticated"


@pytest.mark.parametrize("path", [
    "/api/v1/stores?lat=x&lng=y", "/api/v1/stores/abc", "/api/v1/stores/99999", "/api/v1/stores/1/products?page=-1",
    "/api/v1/stores/1/products?category_id=x", "/api/v1/stores/1/products?q=" + "x" * 51, "/api/v1/products/0",
    "/api/v1/products/1?store_id=x", "/api/v1/nothing-here", "/api/v1/orders/not-a-number",
])
def test_bad_reads(client, app_ctx, path):
    headers = factories.login(client)
    assert_envelope(client.get(path, headers=headers))


def test_unknown_route_wrong_method_and_oversized_body(client, app_ctx):
    assert assert_envelope(client.get("/nope"), 404)["code"] == "not_found"
    response = client.delete("/api/v1/stores")
    assert assert_envelope(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    big = b'{"code": "' + b"x" * (app_ctx.config["MAX_REQUEST_BYTES"] + 10) + b'"}'
    error = assert_envelope(client.post("/api/v1/auth/login", data=big, content_type="application/json"), 413)
    assert error["code"] == "payload_too_large"
