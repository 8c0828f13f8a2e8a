"""The schema-first API (docs/api-schemas.md): a valid OpenAPI document with servers, a docs page that needs no
internet, request schemas refusing bad input in the envelope of docs/api.md, response schemas on every converted
operation."""
from openapi_spec_validator import validate

from tests import factories

# Operations declared with api_spec.operation; each has a success schema, an error schema and limits.
CONVERTED = [("get", "/api/v1/stores"), ("get", "/api/v1/stores/{store_id}"), ("get", "/api/v1/categories"),
             ("get", "/api/v1/stores/{store_id}/products"), ("get", "/api/v1/products/{product_id}"),
             ("get", "/api/v1/cart"), ("put", "/api/v1/cart/items"), ("delete", "/api/v1/cart/items/{sku_id}"),
             ("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/logout"), ("get", "/api/v1/me"),
             ("post", "/api/v1/me/phone"), ("get", "/api/v1/me/subscriptions"), ("post", "/api/v1/me/subscriptions"),
             ("post", "/api/v1/me/official-account/link"), ("post", "/api/v1/orders"), ("get", "/api/v1/orders"),
             ("get", "/api/v1/orders/{order_no}"), ("post", "/api/v1/orders/{order_no}/cancel"),
             ("post", "/api/v1/orders/{order_no}/pay"), ("get", "/api/v1/orders/{order_no}/pickup")]
# The staff mini-program's operations (Schemathesis runs them logged in as a manager's seat).
STAFF_CONVERTED = [("post", "/api/v1/staff/auth/login"), ("post", "/api/v1/staff/auth/bind"),
                   ("post", "/api/v1/staff/auth/logout"), ("post", "/api/v1/staff/invites"),
                   ("post", "/api/v1/staff/pickups/lookup"), ("post", "/api/v1/staff/pickups/redeem"),
                   ("post", "/api/v1/staff/orders/{order_no}/ready"), ("get", "/api/v1/staff/pickups"),
                   ("get", "/api/v1/staff/redemptions")]
# Coupons, ratings, attribution and commission (issues 17, 18); GET /staff/me/code answers the image itself.
PROMO_STAFF = [("get", "/api/v1/staff/ratings"), ("get", "/api/v1/staff/store/service"),
               ("get", "/api/v1/staff/me/code"), ("get", "/api/v1/staff/me/stats"), ("get", "/api/v1/staff/leaderboard"),
               ("post", "/api/v1/staff/commission/adjustments"), ("post", "/api/v1/staff/orders/{order_no}/refund"),
               ("post", "/api/v1/staff/payouts"), ("get", "/api/v1/staff/me/payouts")]
STAFF_CONVERTED += PROMO_STAFF
CONVERTED += [("get", "/api/v1/me/coupons"), ("post", "/api/v1/me/coupons"), ("get", "/api/v1/stores/{store_id}/coupons"),
              ("post", "/api/v1/orders/{order_no}/rating"), ("post", "/api/v1/me/attribution")] + STAFF_CONVERTED
NOT_JSON = {("get", "/api/v1/staff/me/code"): "image/jpeg"}


def test_the_document_validates_and_names_its_server(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["servers"][0]["url"] == "http://localhost"


def test_converted_operations_declare_success_and_error_bodies(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for method, path in CONVERTED:
        responses = document["paths"][path][method]["responses"]
        success = next(status for status in responses if status.startswith("2"))
        if (method, path) in NOT_JSON:
            assert list(responses[success]["content"]) == [NOT_JSON[method, path]]
        elif success != "204":
            assert "$ref" in responses[success]["content"]["application/json"]["schema"], (method, path)
        assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    body = schemas["CartItemBody"]["properties"]
    assert body["quantity"]["minimum"] == 1 and body["quantity"]["maximum"] == 99
    assert body["sku_id"]["maximum"] == 2**31 - 1
    assert schemas["ProductsQuery"]["properties"]["per_page"]["maximum"] == 100
    assert set(schemas["CartQuery"]["required"]) == {"store_id"}


def test_coupon_rating_and_commission_operations_declare_their_limits(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas, paths = document["components"]["schemas"], document["paths"]
    stars = schemas["RatingBody"]["properties"]["stars"]
    assert (stars["minimum"], stars["maximum"]) == (1, 5)
    assert schemas["AdjustmentBody"]["properties"]["amount_fen"]["minimum"] == -10_000_000
    assert schemas["AttributionBody"]["properties"]["scene"]["pattern"].endswith("{1,32}$")
    assert "pattern" in schemas["StatsQuery"]["properties"]["from"]["anyOf"][0]
    assert schemas["CouponsQuery"]["properties"]["state"]["anyOf"][0]["enum"] == ["available", "locked", "used",
                                                                                 "expired"]
    for method, path in PROMO_STAFF:
        operation = paths[path][method]
        assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"], path
    for path in ("/api/v1/staff/ratings", "/api/v1/staff/commission/adjustments", "/api/v1/staff/payouts",
                 "/api/v1/staff/orders/{order_no}/refund"):  # manager only
        assert "403" in next(iter(paths[path].values()))["responses"], path
    assert {"404", "410", "429"} <= set(paths["/api/v1/me/attribution"]["post"]["responses"])


def test_the_docs_page_is_served_with_no_outside_asset(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/api/v1/cart/items" in page and "CartItemBody" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_a_bad_body_is_an_invalid_request_naming_every_field(client, app_ctx):
    factories.store()
    headers = factories.login(client)
    response = client.put("/api/v1/cart/items", headers=headers,
                          json={"store_id": 1, "sku_id": "7", "quantity": 300, "extra": True})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert set(error["details"]["fields"]) == {"sku_id", "quantity"}
    assert error["message"].startswith("sku_id: ")


def test_a_bad_query_names_the_parameter_and_an_empty_one_is_absent(client, app_ctx):
    error = client.get("/api/v1/stores?lat=91&lng=0").get_json()["error"]
    assert error["code"] == "invalid_request" and set(error["details"]["fields"]) == {"lat"}
    assert client.get("/api/v1/stores?lat=&lng=&page=").status_code == 200
    error = client.get("/api/v1/stores?lat=1").get_json()["error"]
    assert error["details"]["fields"] == {"lng": "lat and lng go together"}


def test_staff_operations_declare_their_limits_and_the_staff_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["CodeOrTokenBody"]["properties"]["code"]["anyOf"][0]["maxLength"] == 32
    assert "exactly one" in schemas["CodeOrTokenBody"]["description"].lower()
    assert schemas["InviteBody"]["properties"]["role"]["anyOf"][0]["enum"] == ["clerk", "manager"]
    assert schemas["AwaitingQuery"]["properties"]["status"]["anyOf"][0]["enum"] == ["paid", "ready"]
    redeem = document["paths"]["/api/v1/staff/pickups/redeem"]["post"]
    assert redeem["security"] == [{"bearer": []}] and {"401", "404", "409", "429"} <= set(redeem["responses"])
    assert "security" not in document["paths"]["/api/v1/staff/auth/login"]["post"]


def test_code_or_qr_token_is_one_rule_naming_both_fields(client, app_ctx):
    _, headers = factories.staff_seat(client, factories.store())
    for body in ({}, {"code": "1234 5678 9012", "qr_token": "mmqr1.x"}):
        response = client.post("/api/v1/staff/pickups/lookup", headers=headers, json=body)
        error = response.get_json()["error"]
        assert response.status_code == 400 and error["code"] == "invalid_request"
        assert error["message"] == "Send either code or qr_token."
        assert set(error["details"]["fields"]) == {"code", "qr_token"}
    # without a staff token, a bad body is still a 401
    assert client.post("/api/v1/staff/pickups/lookup", json={"code": 5}).status_code == 401


def test_answers_are_checked_against_their_schema_outside_production_only(client, app, monkeypatch):
    """API_VALIDATE_RESPONSES: on in development and tests (an answer off its schema is a 500 the tests see), off by
    default in production, where the answer goes out as the view made it."""
    from app import create_app
    from miniprogram_api import shop_views
    from tests.app.test_config import GOOD_PRODUCTION

    assert app.config["API_VALIDATE_RESPONSES"] is True
    assert create_app(environ=GOOD_PRODUCTION).config["API_VALIDATE_RESPONSES"] is False
    monkeypatch.setattr(shop_views.catalog, "category_tree", lambda: [{"id": "not an id"}])
    assert client.get("/api/v1/categories").status_code == 500
    app.config["API_VALIDATE_RESPONSES"] = False
    passed = client.get("/api/v1/categories")
    assert passed.status_code == 200 and passed.get_json() == {"items": [{"id": "not an id"}]}
    assert passed.mimetype == "application/json"


def test_answers_are_the_same_bytes_with_response_validation_on_and_off(client, app, app_ctx):
    """Off (production), the view's answer goes to Flask as it is instead of through SpecTree's rebuilding
    (miniprogram_api/api_spec._Plugin): the status, the headers and the body stay those the checked path gives,
    for JSON answers, tuples with a status, the cached product list's bytes, errors, and a staff code's JPEG."""
    store_id = factories.store()
    factories.product("拿铁", specs=(("中杯", 2800), ("大杯", 3200)), stock={store_id: 7})
    customer = factories.login(client)
    _, staff = factories.staff_seat(client, store_id, "manager")
    requests = [("get", "/api/v1/stores", {}, None), ("get", f"/api/v1/stores/{store_id}", {}, None),
                ("get", "/api/v1/categories", {}, None), ("get", f"/api/v1/stores/{store_id}/products", {}, None),
                ("get", f"/api/v1/stores/{store_id}/products?per_page=1&page=2", {}, None),
                ("get", "/api/v1/stores/99999/products", {}, None), ("get", "/api/v1/me", customer, None),
                ("get", "/api/v1/me", {}, None), ("get", f"/api/v1/cart?store_id={store_id}", customer, None),
                ("put", "/api/v1/cart/items", customer, {"store_id": store_id, "sku_id": 99999, "quantity": 1}),
                ("get", "/api/v1/orders?per_page=0", customer, None), ("get", "/api/v1/staff/me/code", staff, None),
                ("post", "/api/v1/staff/pickups/lookup", staff, {"code": "00000000"})]

    def answers() -> list[tuple[int, list[tuple[str, str]], bytes]]:
        seen = []
        for method, path, headers, body in requests:
            response = getattr(client, method)(path, headers=headers, json=body)
            seen.append((response.status_code, [h for h in response.headers.items() if h[0] != "X-Request-Id"],
                         response.get_data()))
        return seen

    app.config["API_VALIDATE_RESPONSES"] = True
    checked = answers()
    app.config["API_VALIDATE_RESPONSES"] = False
    assert answers() == checked
    assert [status for status, _, _ in checked] == [200, 200, 200, 200, 200, 404, 200, 401, 200, 409, 400, 200, 400]
