"""The staff mini-program at the counter: look up and hand over pickups, mark orders ready, list the store's
waiting orders and its redemption log."""
from __future__ import annotations

import re

from flask import jsonify, request

from app.errors import NotFound
from app.pickup import handover
from app.pickup.queries import attempt_log, awaiting_pickups
from miniprogram_api.api_spec import operation
from miniprogram_api.params import page_of
from miniprogram_api.render import order_json
from miniprogram_api.schemas.orders import OrderOut
from miniprogram_api.schemas.pickup import (AwaitingPage, AwaitingQuery, CodeOrTokenBody, PickupOut, RedemptionPage,
                                            RedemptionsQuery)
from miniprogram_api.staff_auth import current_seat, staff, staff_required
from miniprogram_api.staff_render import awaiting_json, log_json, pickup_json

COUNTER = ("staff", "pickup")
_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


@staff.post("/pickups/lookup")
@staff_required
@operation(tags=COUNTER, json=CodeOrTokenBody, ok=PickupOut, authenticated=True, errors=(404, 429))
def lookup_pickup(json: CodeOrTokenBody):
    """Preview the pickup a code or QR token names; 404 pickup_not_found (unknown or another store's), 400
    qr_token_invalid / qr_token_expired, 429 rate_limited"""
    pickup = handover.lookup(current_seat(), json.code, json.qr_token, request.remote_addr)
    # The attempt's log row is committed after this answer is rendered, from what the lookup read.
    return jsonify(pickup_json(pickup))


@staff.post("/pickups/redeem")
@staff_required
@operation(tags=COUNTER, json=CodeOrTokenBody, ok=PickupOut, authenticated=True, errors=(404, 409, 429))
def redeem_pickup(json: CodeOrTokenBody):
    """Hand the order over, once; 409 already_redeemed, 404 pickup_not_found (unknown or another store's), 409
    order_not_redeemable, 429 rate_limited"""
    pickup = handover.redeem(current_seat(), json.code, json.qr_token, request.remote_addr)
    # The handover and its log row are committed after this answer is rendered, from what it just wrote.
    return jsonify(pickup_json(pickup))


@staff.post("/orders/<order_no>/ready")
@staff_required
@operation(tags=COUNTER, ok=OrderOut, authenticated=True, errors=(404, 409))
def mark_ready(order_no: str):
    """The order is prepared: status ready, the customer is told"""
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist at this store.")
    order = handover.mark_ready(current_seat(), order_no)
    return jsonify(order_json(order))


@staff.get("/pickups")
@staff_required
@operation(tags=COUNTER, query=AwaitingQuery, ok=AwaitingPage, authenticated=True)
def list_pickups(query: AwaitingQuery):
    """The store's orders awaiting pickup, oldest first"""
    rows, total = awaiting_pickups(current_seat().store_id, query.status, query.offset, query.per_page)
    return jsonify(page_of([awaiting_json(order, code) for order, code in rows], query.page, query.per_page, total))


@staff.get("/redemptions")
@staff_required
@operation(tags=COUNTER, query=RedemptionsQuery, ok=RedemptionPage, authenticated=True)
def list_redemptions(query: RedemptionsQuery):
    """The store's redemption log (a clerk sees their own attempts)"""
    entries, total = attempt_log(current_seat(), offset=query.offset, limit=query.per_page)
    return jsonify(page_of([log_json(e) for e in entries], query.page, query.per_page, total))
