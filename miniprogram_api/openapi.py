"""The OpenAPI 3.1 document of every route (a test fails when a route is missing from it).

The document is SpecTree's operations (every /api/v1 view is declared with api_spec.operation) and the routes outside
the JSON API, described in openapi_routes.py (health, the document, WeChat's callbacks) and openapi_console.py (the
merchant console). Beside them it records what this project adds to the original contract (EXTENSIONS).
"""
from __future__ import annotations

import copy
from typing import Any

from flask import jsonify, request

from miniprogram_api import consumer, openapi_console, openapi_routes
from miniprogram_api.api_spec import spec

# Error codes beyond the original contract, by issue: 400 qr_token_invalid / qr_token_expired (a forged or stale QR
# token), 404 invite_not_found, 409 invite_used / invite_expired / staff_already_bound, 403 seat_disabled (issue 5);
# 404 scene_not_found, 410 scene_expired (issue 17, EXTENSIONS_ISSUE_17). Orders carry total_fen, discount_fen,
# payable_fen (what WeChat Pay is asked for), coupon_id, pickup_at, promised_ready_at and late; GET /stores/{id}
# carries `service` (issue 18).
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


# What this project adds to the original contract (docs/api.md marks each; the original paths, names and codes are kept).
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
    """SpecTree's operations (the views declared with api_spec.operation), then the routes outside the JSON API."""
    generated = copy.deepcopy(spec.spec)
    paths: dict[str, dict[str, Any]] = {path: dict(ops) for path, ops in generated["paths"].items()}
    _bound_path_ids(paths)
    for path, ops in openapi_routes.operations().items():
        paths.setdefault(path, {}).update(ops)
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
