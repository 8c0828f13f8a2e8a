"""The OpenAPI 3.1 document of every route (a test fails when a route is missing from it).

Operations are declared as rows — method, path, summary, who may call, parameters, body fields — and expanded into
the document, so adding a route is adding a line here.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import jsonify, request

from miniprogram_api import consumer
from miniprogram_api.api_spec import spec

PUBLIC, CUSTOMER, STAFF, WECHAT = "public", "customer", "staff", "wechat"

# (method, path, summary, caller, query/path parameters, JSON body fields {name: (type, required)}, success status)
OPERATIONS: list[tuple[str, str, str, str, dict[str, str], dict[str, tuple[str, bool]], int]] = [
    ("get", "/healthz", "The process is up", PUBLIC, {}, {}, 200),
    ("get", "/readyz", "Database and Redis are reachable", PUBLIC, {}, {}, 200),
    ("get", "/api/v1/openapi.json", "This document", PUBLIC, {}, {}, 200),
    ("get", "/api/v1/docs", "This document as an HTML page (text/html)", PUBLIC, {}, {}, 200),
    ("post", "/payments/wechatpay/notify", "WeChat Pay v3 payment notification (204 taken, 4xx FAIL)", WECHAT,
     {}, {}, 204),
    ("post", "/payments/wechatpay/refund-notify", "WeChat Pay v3 refund notification (204 taken, 4xx FAIL)",
     WECHAT, {}, {}, 204),
    ("get", "/wechat/official-account", "Official-account URL check: echoes echostr for a valid signature", WECHAT,
     {"signature": "string", "timestamp": "string", "nonce": "string", "echostr": "string"}, {}, 200),
    ("post", "/wechat/official-account", "Official-account messages and events (XML; plaintext or safe mode)",
     WECHAT, {"signature": "string", "timestamp": "string", "nonce": "string", "encrypt_type": "string",
              "msg_signature": "string", "openid": "string"}, {}, 200),
]

# Store pickup (issue 5) and staff logout (issue 11) are declared on their views (schemas/pickup.py, staff.py).
# Error codes beyond API.md: 400 qr_token_invalid / qr_token_expired (a forged or stale QR token), 404
# invite_not_found, 409 invite_used / invite_expired / staff_already_bound, 403 seat_disabled.

# Promises, ratings, coupons and alliances (issue 18): orders carry total_fen, discount_fen, payable_fen (what
# WeChat Pay is asked for), coupon_id, pickup_at, promised_ready_at and late; GET /stores/{id} carries `service`. The
# coupon, rating and service operations are declared by schema (promise_views.py).

# Staff attribution and commission (issue 17): the customer's and the staff's operations are declared by schema
# (attribution_views.py, staff_commission_views.py); here the merchant-transfer callback. Error codes beyond API.md:
# 404 scene_not_found, 410 scene_expired (EXTENSIONS_ISSUE_17).
OPERATIONS += [
    ("post", "/payments/wechatpay/transfer-notify", "WeChat Pay merchant-transfer notification "
     "MCHTRANSFER.BILL.FINISHED (204 taken, 4xx FAIL)", WECHAT, {}, {}, 204),
]
EXTENSIONS_ISSUE_17 = {
    "error_codes": {"scene_not_found": "404: the scene is not one of our codes",
                    "scene_expired": "410: the code was rotated past its grace period, or its seat or store is gone",
                    "insufficient_commission": "409: more than the seat's payable commission was asked for",
                    "seat_not_payable": "409: the seat is disabled or not bound to a WeChat account"},
    "order_statuses": {"picked_up -> refunding": "a manager's after-sale refund (POST /api/v1/staff/orders/{no}/refund)"},
    "routes": ["POST /api/v1/staff/commission/adjustments", "POST /api/v1/staff/orders/{order_no}/refund",
               "POST /api/v1/staff/payouts", "GET /api/v1/staff/me/payouts", "POST /payments/wechatpay/transfer-notify"],
}

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
}


def _operation(method: str, path: str, summary: str, caller: str, params: dict[str, str],
               body: dict[str, tuple[str, bool]], status: int) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "tags": [caller],
        "responses": {str(status): {"description": "success"},
                      "default": {"description": "error envelope",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    }
    if caller in (CUSTOMER, STAFF):
        op["security"] = [{"bearer": []}]
    parameters = []
    for name, kind in params.items():
        where = "path" if f"{{{name}}}" in path else "header" if kind == "header" else "query"
        parameters.append({"name": name, "in": where, "required": where == "path",
                           "schema": {"type": "string" if kind == "header" else kind}})
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {name: {"type": kind} for name, (kind, _) in body.items()},
            "required": [name for name, (_, required) in body.items() if required]}}}}
    return op


# What this project adds to ../shared/API.md (the shared contract is kept as it is; extensions are recorded here).
EXTENSIONS: dict[str, Any] = {
    "order_statuses": {"refund_failed": "WeChat Pay closed or refused a refund: the money is still with the shop and "
                                        "a person must act (refunding -> refund_failed -> refunding; an ABNORMAL refund "
                                        "WeChat Pay finishes later goes refund_failed -> refunded)"},
    "error_codes": {
        "invalid_login_code": "401: the wx.login code is invalid or used",
        "invalid_phone_code": "400: the getPhoneNumber code is invalid or used",
        "upstream_unavailable": "503: WeChat did not answer usefully; try again",
        "method_not_allowed": "405", "payload_too_large": "413 (named in API.md's status list)",
        "sku_unavailable": "409: the SKU is not sold at that store (details.sku_id)",
        "store_closed": "409: the store is not open now",
        "idempotency_key_reused": "409: the Idempotency-Key was used for a different order",
        "invalid_transition": "409: the order's status does not allow this",
        "order_changed": "409: the order changed at the same moment; reload and retry",
        "order_not_payable": "409: paid, cancelled or otherwise not pending payment",
        "order_expired": "409: past the payment deadline",
        "qr_token_invalid": "400: not a pickup QR token of ours", "qr_token_expired": "400: refresh the QR code",
        "invite_not_found": "404", "invite_used": "409", "invite_expired": "409",
        "staff_already_bound": "409: this WeChat user already holds an active seat",
        "seat_disabled": "403: the staff seat was disabled",
        "login_blocked_by_wechat": "403: WeChat's risk control blocks this user's login (code2session 40226)",
        "link_token_invalid": "404: the official-account link token is unknown, used or expired",
        "follower_already_linked": "409: the follower is linked to another customer",
        "coupon_unavailable": "409: details.reason is not_found, other_store, expired, locked, used or "
                              "below_minimum_spend",
        "coupon_limit_reached": "409", "coupon_budget_exhausted": "409",
        "subsidy_paused": "409: the store's 30-day service is below the merchant's thresholds (details.reasons)",
        "order_not_rateable": "409: not picked up", "rating_window_closed": "409: more than 7 days after pickup",
        "already_rated": "409",
    },
    "headers": {"Idempotent-Replayed": "true on a POST /orders answered from an earlier Idempotency-Key",
                "X-Request-Id": "echoed or generated; carried into the jobs the request enqueued"},
    "routes": ["POST /api/v1/staff/invites (a manager invites staff of their store)",
               "POST /api/v1/me/coupons, GET /api/v1/stores/{id}/coupons, GET /api/v1/staff/ratings, "
               "GET /api/v1/staff/store/service (issue 18)"],
}
EXTENSIONS["error_codes"].update({
    "too_many_unpaid_orders": "409: the customer already holds MAX_UNPAID_ORDERS unpaid orders; pay or cancel one",
    "rate_limited": "429 with Retry-After: ORDERS_PER_CUSTOMER_PER_MINUTE order placements, or pickup guesses per "
                    "seat, store and client address",
    "pickup_not_found": "404: no pickup of this store has this code (another store's code answers the same)",
})


for _key, _values in EXTENSIONS_ISSUE_17.items():
    if isinstance(_values, dict):
        EXTENSIONS[_key].update(_values)
    else:
        EXTENSIONS[_key] += _values


def document() -> dict[str, Any]:
    """SpecTree's operations (views declared with api_spec.operation), then the rows above for the views not yet
    converted; a row for a converted view is ignored."""
    generated = copy.deepcopy(spec.spec)
    paths: dict[str, dict[str, Any]] = {path: dict(ops) for path, ops in generated["paths"].items()}
    for row in OPERATIONS:
        paths.setdefault(row[1], {}).setdefault(row[0], _operation(*row))
    return {
        "openapi": "3.1.0",
        "info": {"title": "micromall", "version": "1",
                 "description": "WeChat mini-program shop backend. Money is integer fen; errors use one envelope.",
                 "x-extensions-to-shared-api-md": EXTENSIONS},
        "servers": [{"url": request.host_url.rstrip("/"), "description": "this server"}],
        "tags": generated.get("tags", []),
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {**generated["components"]["schemas"], "Error": ERROR_SCHEMA},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@consumer.get("/openapi.json")
def openapi_json():
    return jsonify(document())


# The merchant console (issue 16): server-rendered HTML pages and forms at /console/ for shop owners and managers
# (signed cookie session, CSRF token on every POST); the JSON answers are for the pages' own scripts. See
# docs/console.md.
CONSOLE = "console"
OPERATIONS += [
    ("get", "/console/static/{filename}", "The console's vendored CSS and JavaScript", PUBLIC, {"filename": "string"},
     {}, 200),
    ("get", "/console/login", "Sign-in page", PUBLIC, {"next": "string"}, {}, 200),
    ("post", "/console/login", "Sign in (form: username, password, csrf_token); 401, 429 rate_limited", PUBLIC,
     {"next": "string"}, {}, 302),
    ("post", "/console/logout", "Sign out", CONSOLE, {}, {}, 302),
    ("get", "/console/password", "Password page (forced at first login)", CONSOLE, {}, {}, 200),
    ("post", "/console/password", "Change the password (form: current, new, confirm)", CONSOLE, {}, {}, 302),
    ("get", "/console/", "Home: redirects to Today", CONSOLE, {}, {}, 302),
    ("get", "/console/login/scan", "Scan-to-login page: a temporary official-account QR code", PUBLIC, {}, {}, 200),
    ("get", "/console/login/scan-qr", "The scan-to-login QR code image (as WeChat sends it: JPEG)", PUBLIC, {}, {}, 200),
    ("get", "/console/login/scan/status", "Polled by the scan page: signed in yet?", PUBLIC, {}, {}, 200),
    ("get", "/console/wechat/bind", "Bind the signed-in user's WeChat (QR code page)", CONSOLE, {}, {}, 200),
    ("get", "/console/wechat/bind-qr", "The binding QR code image (JPEG)", CONSOLE, {}, {}, 200),
    ("get", "/console/wechat/bind/status", "Polled by the binding page: bound yet?", CONSOLE, {}, {}, 200),
    ("get", "/console/today", "Today at one store: waiting, ready, picked up, no-shows coming", CONSOLE,
     {"store": "integer"}, {}, 200),
    ("get", "/console/today/board", "Today's board alone, polled by the page", CONSOLE, {"store": "integer"}, {}, 200),
    ("get", "/console/orders", "Order search", CONSOLE, {"order_no": "string", "phone": "string", "status": "string",
                                                        "store": "integer", "date": "string", "page": "integer"},
     {}, 200),
    ("get", "/console/orders/{order_no}", "One order: items, events, payment, refunds, pickup", CONSOLE,
     {"order_no": "string"}, {}, 200),
    ("post", "/console/orders/{order_no}/ready", "Mark ready", CONSOLE, {"order_no": "string"}, {}, 302),
    ("post", "/console/orders/{order_no}/refund", "Refund (form: reason, required); 409 order_not_refundable",
     CONSOLE, {"order_no": "string"}, {}, 302),
    ("get", "/console/catalog", "Catalog with per-store stock", CONSOLE, {}, {}, 200),
    ("post", "/console/catalog/stock", "Set a store's stock of a SKU (form: store_id, sku_id, quantity)", CONSOLE,
     {}, {}, 302),
    ("post", "/console/catalog/price", "Owner: set a SKU's price (form: sku_id, price_yuan)", CONSOLE, {}, {}, 302),
    ("get", "/console/catalog/export.csv", "Catalog and stock as CSV (the import's columns)", CONSOLE, {}, {}, 200),
    ("get", "/console/catalog/import", "Owner: CSV upload page", CONSOLE, {}, {}, 200),
    ("post", "/console/catalog/import", "Owner: upload a CSV and preview it; 422 with every bad line", CONSOLE, {},
     {}, 200),
    ("post", "/console/catalog/imports/{import_id}/run", "Owner: import a previewed file (background job); 409 "
     "import_started", CONSOLE, {"import_id": "integer"}, {}, 302),
    ("get", "/console/catalog/imports/{import_id}", "Owner: the import's progress page", CONSOLE,
     {"import_id": "integer"}, {}, 200),
    ("get", "/console/catalog/imports/{import_id}.json", "Owner: the import's progress", CONSOLE,
     {"import_id": "integer"}, {}, 200),
    ("get", "/console/stores", "Stores", CONSOLE, {}, {}, 200),
    ("get", "/console/stores/new", "Owner: new store form", CONSOLE, {}, {}, 200),
    ("post", "/console/stores/new", "Owner: create a store", CONSOLE, {}, {}, 302),
    ("get", "/console/stores/{store_id}", "Edit a store", CONSOLE, {"store_id": "integer"}, {}, 200),
    ("post", "/console/stores/{store_id}", "Save a store (name, address, location, phone, hours, active)", CONSOLE,
     {"store_id": "integer"}, {}, 302),
    ("get", "/console/stores/{store_id}/qrcode", "The store's official-account QR code (print)", CONSOLE,
     {"store_id": "integer"}, {}, 200),
    ("get", "/console/stores/{store_id}/miniprogram-code", "The store's mini-program code (print)", CONSOLE,
     {"store_id": "integer"}, {}, 200),
    ("get", "/console/staff", "Staff seats of a store with their handovers", CONSOLE, {"store": "integer"}, {}, 200),
    ("post", "/console/staff/invite", "Invite (form: name, role): the one-time code and its QR, shown once",
     CONSOLE, {"store": "integer"}, {}, 200),
    ("post", "/console/staff/{seat_id}/disable", "Disable a seat at once", CONSOLE, {"seat_id": "integer"}, {}, 302),
    ("post", "/console/staff/{seat_id}/role", "Owner: clerk <-> manager (form: role)", CONSOLE,
     {"seat_id": "integer"}, {}, 302),
    ("get", "/console/official-account", "Rules, menu, followers per store", CONSOLE, {}, {}, 200),
    ("post", "/console/official-account/rules", "Owner: add a keyword rule", CONSOLE, {}, {}, 302),
    ("post", "/console/official-account/rules/{rule_id}/remove", "Owner: remove a keyword rule", CONSOLE,
     {"rule_id": "integer"}, {}, 302),
    ("post", "/console/official-account/menu", "Owner: push the menu (form: menu JSON)", CONSOLE, {}, {}, 302),
    ("get", "/console/money", "Payments and refunds per day and store, refunds needing a person, reconciliation",
     CONSOLE, {"days": "integer"}, {}, 200),
    ("get", "/console/money.csv", "The money report as CSV for the accountant", CONSOLE, {"days": "integer"}, {}, 200),
    ("get", "/console/dashboard", "Charts (server-side SVG)", CONSOLE, {"days": "integer"}, {}, 200),
    ("get", "/console/users", "Owner: console users", CONSOLE, {}, {}, 200),
    ("post", "/console/users", "Owner: create a console user (one-time password shown once)", CONSOLE, {}, {}, 200),
    ("post", "/console/users/{user_id}/disable", "Owner: disable a console user", CONSOLE, {"user_id": "integer"},
     {}, 302),
    ("get", "/console/audit", "The audit log (a manager sees their stores')", CONSOLE, {}, {}, 200),
]
EXTENSIONS["error_codes"].update({
    "login_failed": "401 (console): wrong username or password", "username_taken": "409 (console)",
    "wrong_password": "400 (console): the current password is wrong",
    "store_forbidden": "403 (console): a store the user does not run", "read_only": "403 (console): viewer",
    "owner_only": "403 (console)", "order_not_refundable": "409 (console): not paid, ready or refund_failed",
    "import_started": "409 (console): the file was already imported", "cannot_disable_self": "409 (console)",
    "csrf_failed": "400 (console): the form's CSRF token is missing or wrong",
})
