"""Every route of the app is in the OpenAPI document."""
import re


def test_every_route_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []
    assert document["openapi"].startswith("3.")


def test_every_error_code_the_code_raises_is_in_api_md_or_recorded_as_an_extension(client):
    import pathlib
    import re as regex

    root = pathlib.Path(__file__).resolve().parents[2]
    raised = set()
    for package in ("app", "miniprogram_api", "official_account", "payments"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            raised |= set(regex.findall(r'code(?:=| = )"([a-z_]+)"', text))
            raised |= {f"qr_token_{reason}" for reason in ("invalid", "expired")} if "qr_token_" in text else set()
    in_api_md = {"invalid_request", "unauthenticated", "forbidden", "not_found", "conflict", "payload_too_large",
                 "rate_limited", "insufficient_stock", "already_redeemed", "pickup_not_found", "wrong_store",
                 "order_not_redeemable", "staff_not_bound"}
    extensions = client.get("/api/v1/openapi.json").get_json()["info"]["x-extensions-to-shared-api-md"]
    assert raised - in_api_md - set(extensions["error_codes"]) == set()
