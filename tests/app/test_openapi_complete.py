"""Every operation of the served OpenAPI document is complete: each parameter has a schema, a request body names its
media type and schema, and each response says what it is — a body with its media type and schema, or (204, 3xx)
none, a redirect naming its Location header."""
MAX_ID = 2**31 - 1


def _problems(method: str, path: str, op: dict) -> list[str]:
    where = f"{method.upper()} {path}"
    problems = [f"{where}: parameter {p.get('name')} has no schema" for p in op.get("parameters", [])
                if not p.get("schema")]
    for p in op.get("parameters", []):
        if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer" and \
                (p["schema"].get("minimum"), p["schema"].get("maximum")) != (1, MAX_ID):
            problems.append(f"{where}: path id {p['name']} is not 1..2^31-1")
    content = op.get("requestBody", {"content": {"-": {"schema": True}}}).get("content") or {}
    problems += [f"{where}: request body {media} has no schema" for media, item in content.items()
                 if not item.get("schema")] or ([] if content else [f"{where}: request body has no media type"])
    responses = op.get("responses", {})
    statuses = sorted(s for s in responses if s[0] in "23")
    if not statuses:
        problems.append(f"{where}: no success status")
    for status, response in responses.items():
        if not response.get("description"):
            problems.append(f"{where} {status}: no description")
        if status == "204" or status.startswith("3"):
            if response.get("content"):
                problems.append(f"{where} {status}: a {status} has no body")
            if status.startswith("3") and "Location" not in response.get("headers", {}):
                problems.append(f"{where} {status}: a redirect names its Location header")
            continue
        media = response.get("content") or {}
        if not media:
            problems.append(f"{where} {status}: no media type")
        problems += [f"{where} {status}: {kind} has no schema" for kind, item in media.items() if not item.get("schema")]
    return problems


def test_every_operation_is_complete(client):
    document = client.get("/api/v1/openapi.json").get_json()
    problems = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            problems += _problems(method, path, op)
    assert problems == []


def test_the_completeness_check_catches_what_is_missing():
    thin = {"parameters": [{"name": "q", "in": "query"}], "requestBody": {"content": {"application/json": {}}},
            "responses": {"200": {"description": "success"}, "302": {"description": "moved"}}}
    found = " | ".join(_problems("get", "/x", thin))
    for missing in ("parameter q has no schema", "request body application/json has no schema", "200: no media type",
                    "302: a redirect names its Location header"):
        assert missing in found


def test_the_non_api_routes_state_their_limits(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    callback = paths["/wechat/official-account"]["post"]
    assert callback["requestBody"]["content"]["text/xml"]["schema"]["maxLength"] == app.config["MAX_REQUEST_BYTES"]
    assert {p["name"] for p in callback["parameters"] if p["required"]} == {"signature", "timestamp", "nonce"}
    notify = paths["/payments/wechatpay/notify"]["post"]
    assert {p["name"] for p in notify["parameters"] if p["required"]} == {
        "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"}
    assert "content" not in notify["responses"]["204"] and "Retry-After" in notify["responses"]["503"]["headers"]
    assert set(schemas["WeChatPayNotification"]["required"]) >= {"id", "event_type", "resource_type", "resource"}
    # The console's forms are read from the Flask-WTF forms themselves.
    login = schemas["ConsoleLoginForm"]
    assert set(login["required"]) == {"username", "password", "csrf_token"}
    assert login["properties"]["username"]["maxLength"] == 64
    quantity = schemas["ConsoleStockForm"]["properties"]["quantity"]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 0, 1_000_000)
    assert schemas["ConsoleStockForm"]["properties"]["sku_id"]["maximum"] == MAX_ID
    assert "phone" not in schemas["ConsoleStoreForm"]["required"]
    refund = paths["/console/orders/{order_no}/refund"]["post"]
    assert refund["security"] == [{"consoleSession": []}]
    assert set(refund["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    assert "Location" in refund["responses"]["302"]["headers"]
    assert set(refund["responses"]["409"]["content"]) == {"text/html", "application/json"}
    assert document["components"]["securitySchemes"]["consoleSession"]["in"] == "cookie"
    assert "text/csv" in paths["/console/money.csv"]["get"]["responses"]["200"]["content"]
    assert paths["/console/login"]["get"]["security"] == []
