"""The staff mini-program at the counter: look up and hand over pickups, mark orders ready, list the store's
waiting orders and its redemption log."""
from __future__ import annotations

import re

from flask import jsonify, request

from app.errors import InvalidRequest, NotFound
from app.extensions import db
from app.pickup import handover
from app.pickup.queries import attempt_log, awaiting_pickups
from app.uow import commit_keeping_loaded
from miniprogram_api.params import body_str, json_body, page_of, paging, query_str
from miniprogram_api.render import order_json
from miniprogram_api.staff_auth import current_seat, staff, staff_required
from miniprogram_api.staff_render import awaiting_json, log_json, pickup_json

_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


def _code_or_token() -> tuple[str | None, str | None]:
    """Exactly one of `code` (typed, spaces allowed) and `qr_token` (scanned)."""
    body = json_body()
    code = body_str(body, "code", max_length=32, required=False)
    qr_token = body_str(body, "qr_token", max_length=512, required=False)
    if (code is None) == (qr_token is None):
        raise InvalidRequest("Send either code or qr_token.",
                             {"fields": {"code": "send code or qr_token", "qr_token": "send code or qr_token"}})
    return code, qr_token


@staff.post("/pickups/lookup")
@staff_required
def lookup_pickup():
    code, qr_token = _code_or_token()
    pickup = handover.lookup(current_seat(), code, qr_token, request.remote_addr)
    commit_keeping_loaded()  # the attempt's log row; the answer is rendered from what the lookup read
    return jsonify(pickup_json(pickup))


@staff.post("/pickups/redeem")
@staff_required
def redeem_pickup():
    code, qr_token = _code_or_token()
    pickup = handover.redeem(current_seat(), code, qr_token, request.remote_addr)
    commit_keeping_loaded()  # the handover with its log row; the answer is rendered from what it just wrote
    return jsonify(pickup_json(pickup))


@staff.post("/orders/<order_no>/ready")
@staff_required
def mark_ready(order_no: str):
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist at this store.")
    order = handover.mark_ready(current_seat(), order_no)
    db.session.commit()
    return jsonify(order_json(order))


@staff.get("/pickups")
@staff_required
def list_pickups():
    status = query_str("status", max_length=20, choices=handover.REDEEMABLE)
    page, per_page, offset = paging()
    rows, total = awaiting_pickups(current_seat().store_id, status, offset, per_page)
    return jsonify(page_of([awaiting_json(order, code) for order, code in rows], page, per_page, total))


@staff.get("/redemptions")
@staff_required
def list_redemptions():
    page, per_page, offset = paging()
    entries, total = attempt_log(current_seat(), offset, per_page)
    return jsonify(page_of([log_json(e) for e in entries], page, per_page, total))
