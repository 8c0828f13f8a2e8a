"""The OpenAPI 3.1 document of every route (a test fails when a route is missing from it).

The document is SpecTree's operations (the /api/v1 views declared with api_spec.operation), the routes outside the
JSON API described in openapi_routes.py and openapi_console.py, and, for the /api/v1 views not yet converted, rows
here — method, path, summary, who may call, parameters, body fields — expanded by `_operation`.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import jsonify, request

from miniprogram_api import consumer, openapi_console, openapi_routes
from miniprogram_api.api_spec import spec

PUBLIC, CUSTOMER, STAFF, WECHAT = "public", "customer", "staff", "wechat"

# Rows for the /api/v1 views not yet declared with api_spec.operation (their conversion is under way; each row goes
# when its view is converted). The other routes are described completely in openapi_routes.py / openapi_console.py.
# (method, path, summary, caller, query/path parameters, JSON body fields {name: (type, required)}, success status)
OPERATIONS: list[tuple[str, str, str, str, dict[str, str], dict[str, tuple[str, bool]], int]] = []

# Store pickup (issue 5). Error codes beyond API.md: 400 qr_token_invalid / qr_token_expired (a forged or stale QR
# token), 404 invite_not_found, 409 invite_used / invite_expired / staff_already_bound, 403 seat_disabled.
OPERATIONS += [
    ("get", "/api/v1/orders/{order_no}/pickup", "The pickup code and a fresh QR token of a paid or ready order; "
     "409 order_not_redeemable otherwise", CUSTOMER, {"order_no": "string"}, {}, 200),
    ("post", "/api/v1/staff/auth/login", "Staff login with a staff-app wx.login() code; 403 staff_not_bound", PUBLIC,
     {}, {"code": ("string", True)}, 200),
    ("post", "/api/v1/staff/auth/bind", "Bind the staff openid to the seat of a one-time invite", PUBLIC, {},
     {"code": ("string", True), "invite_code": ("string", True)}, 200),
    ("post", "/api/v1/staff/invites", "Manager: a one-time invite for a seat of their store (a new seat "
     "without seat_id)", STAFF, {}, {"seat_id": ("integer", False), "role": ("string", False),
                                    "name": ("string", False)}, 201),
    ("post", "/api/v1/staff/pickups/lookup", "Preview the pickup a code or QR token names; 404 pickup_not_found "
     "(unknown or another store's), 429 rate_limited", STAFF, {}, {"code": ("string", False), "qr_token": ("string", False)}, 200),
    ("post", "/api/v1/staff/pickups/redeem", "Hand the order over, once; 409 already_redeemed, 404 pickup_not_found "
     "(unknown or another store's), 409 order_not_redeemable, 429 rate_limited", STAFF, {},
     {"code": ("string", False), "qr_token": ("string", False)}, 200),
    ("post", "/api/v1/staff/orders/{order_no}/ready", "The order is prepared: status ready, the customer is told",
     STAFF, {"order_no": "string"}, {}, 200),
    ("get", "/api/v1/staff/pickups", "The store's orders awaiting pickup, oldest first", STAFF,
     {"status": "string", "page": "integer", "per_page": "integer"}, {}, 200),
    ("get", "/api/v1/staff/redemptions", "The store's redemption log (a clerk sees their own attempts)", STAFF,
     {"page": "integer", "per_page": "integer"}, {}, 200),
]

# Security hardening (issue 11): logout, and what the new limits answer.
OPERATIONS += [
    ("post", "/api/v1/staff/auth/logout", "Revoke this staff token (204)", STAFF, {}, {}, 204),
]

# Promises, ratings, coupons and alliances (issue 18). Orders carry total_fen, discount_fen, payable_fen (what
# WeChat Pay is asked for), coupon_id, pickup_at, promised_ready_at and late; GET /stores/{id} carries `service`.
OPERATIONS += [
    ("get", "/api/v1/me/coupons", "The customer's coupons with their state (available, locked, used, expired)",
     CUSTOMER, {"state": "string", "page": "integer", "per_page": "integer"}, {}, 200),
    ("post", "/api/v1/me/coupons", "Claim a merchant coupon; 409 coupon_limit_reached, coupon_budget_exhausted, "
     "subsidy_paused", CUSTOMER, {}, {"definition_id": ("integer", True)}, 201),
    ("get", "/api/v1/stores/{store_id}/coupons", "Merchant coupons a customer may claim for this store", PUBLIC,
     {"store_id": "integer"}, {}, 200),
    ("post", "/api/v1/orders/{order_no}/rating", "Rate a picked-up order once, within 7 days; 409 "
     "order_not_rateable, rating_window_closed, already_rated", CUSTOMER, {"order_no": "string"},
     {"stars": ("integer", True), "tags": ("array", False), "comment": ("string", False)}, 201),
    ("get", "/api/v1/staff/ratings", "Manager: the store's ratings, newest first (flagged=1: the low ones)", STAFF,
     {"flagged": "string", "page": "integer", "per_page": "integer"}, {}, 200),
    ("get", "/api/v1/staff/store/service", "The store's 30-day rating and on-time rate, the merchant's thresholds, "
     "and why subsidised coupons are paused if they are", STAFF, {}, {}, 200),
]

# Staff attribution and commission (issue 17). Error codes beyond API.md: 404 scene_not_found, 410 scene_expired.
OPERATIONS += [
    ("post", "/api/v1/me/attribution", "The scene the mini-program was opened with (staff or store code): the first "
     "staff code owns the customer at its store for ATTRIBUTION_WINDOW_D days; 400 malformed, 404 scene_not_found, "
     "410 scene_expired, 429 rate_limited", CUSTOMER, {}, {"scene": ("string", True)}, 200),
    ("get", "/api/v1/staff/me/code", "This seat's personal mini-program code (image/jpeg from getwxacodeunlimit)",
     STAFF, {}, {}, 200),
    ("get", "/api/v1/staff/me/stats", "Customers attributed, their orders and amount paid, handovers, median minutes "
     "ready-to-handover, commission earned/reversed/adjusted/net (from/to: YYYY-MM-DD local, or ISO 8601 with "
     "offset; default this month)", STAFF, {"from": "string", "to": "string"}, {}, 200),
    ("get", "/api/v1/staff/leaderboard", "The store's seats ranked by net commission (period: day, week, month or "
     "YYYY-MM); managers see every figure, clerks ranks and their own", STAFF,
     {"store_id": "integer", "period": "string"}, {}, 200),
    ("post", "/api/v1/staff/commission/adjustments", "Manager: a signed ledger adjustment for a seat of their store, "
     "with a reason", STAFF, {}, {"seat_id": ("integer", True), "amount_fen": ("integer", True),
                                  "reason": ("string", True)}, 201),
    ("post", "/api/v1/staff/orders/{order_no}/refund", "Manager: refund a picked-up order (after-sale); its "
     "commission is reversed when the refund succeeds", STAFF, {"order_no": "string"}, {}, 200),
    ("post", "/api/v1/staff/payouts", "Manager: pay a seat's net commission (or amount_fen of it) to its WeChat "
     "balance by merchant transfer; 409 insufficient_commission, 409 seat_not_payable", STAFF, {},
     {"seat_id": ("integer", True), "amount_fen": ("integer", False)}, 201),
    ("get", "/api/v1/staff/me/payouts", "The seat's payable commission and payouts; a bill waiting for the clerk "
     "carries the wx.requestMerchantTransfer fields", STAFF, {}, {}, 200),
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


def _bound_path_ids(paths: dict[str, dict[str, Any]]) -> None:
    """SpecTree writes an `<int:…>` path segment as a bare int32; app/routing.py bounds it to the INTEGER columns
    the ids live in (a larger one matches no route: 404), so the document says so."""
    for ops in paths.values():
        for op in ops.values():
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"] = dict(openapi_routes.ID)


def document() -> dict[str, Any]:
    """SpecTree's operations (views declared with api_spec.operation), then the rows above for the views not yet
    converted; a row for a converted view is ignored."""
    generated = copy.deepcopy(spec.spec)
    paths: dict[str, dict[str, Any]] = {path: dict(ops) for path, ops in generated["paths"].items()}
    _bound_path_ids(paths)
    for path, ops in openapi_routes.operations().items():
        paths.setdefault(path, {}).update(ops)
    for row in OPERATIONS:
        paths.setdefault(row[1], {}).setdefault(row[0], _operation(*row))
    described = openapi_routes.schemas()
    clash = set(described) & set(generated["components"]["schemas"])
    assert not clash, f"schema names declared twice: {clash}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "micromall", "version": "1",
                 "description": "WeChat mini-program shop backend. Money is integer fen; errors use one envelope.",
                 "x-extensions-to-shared-api-md": EXTENSIONS},
        "servers": [{"url": request.host_url.rstrip("/"), "description": "this server"}],
        "tags": generated.get("tags", []),
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {**generated["components"]["schemas"], **described, "Error": ERROR_SCHEMA},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           openapi_console.COOKIE: openapi_console.security_scheme()}},
    }


@consumer.get("/openapi.json")
def openapi_json():
    return jsonify(document())


# The merchant console (issue 16): server-rendered HTML pages and forms at /console/ for shop owners and managers
# (signed cookie session, CSRF token on every POST); described in openapi_console.py. See docs/console.md.
EXTENSIONS["error_codes"].update({
    "login_failed": "401 (console): wrong username or password", "username_taken": "409 (console)",
    "wrong_password": "400 (console): the current password is wrong",
    "store_forbidden": "403 (console): a store the user does not run", "read_only": "403 (console): viewer",
    "owner_only": "403 (console)", "order_not_refundable": "409 (console): not paid, ready or refund_failed",
    "import_started": "409 (console): the file was already imported", "cannot_disable_self": "409 (console)",
    "csrf_failed": "400 (console): the form's CSRF token is missing or wrong",
})
