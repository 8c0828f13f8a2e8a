"""The staff mini-program's side of attribution and commission: the seat's own code, its figures, the store's
leaderboard, and a manager's adjustments and after-sale refunds."""
from __future__ import annotations

import re

from flask import Response, jsonify

from app.attribution.funnel import store_funnel
from app.attribution.scenes import current_scene
from app.commission import ledger, periods
from app.commission.stats import leaderboard, seat_stats
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.orders.after_sale import refund_picked_up
from app.wechat.wxacode import code_page, unlimited_code
from miniprogram_api.params import body_int, body_str, json_body, query_int, query_str
from miniprogram_api.render import iso, order_json
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required

_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


@staff.get("/me/code")
@staff_required
def my_code():
    """This seat's personal code: the consumer mini-program's code whose scene attributes to this seat."""
    seat = current_seat()
    scene = current_scene(seat.store_id, seat.id)
    db.session.commit()  # a scene made on first use is kept before WeChat is asked (no transaction open meanwhile)
    image, content_type = unlimited_code(scene.scene, code_page())
    response = Response(image, content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@staff.get("/me/stats")
@staff_required
def my_stats():
    period = periods.between(query_str("from", max_length=40), query_str("to", max_length=40))
    seat = current_seat()
    return jsonify(seat_id=seat.id, period=period.json(), **seat_stats(seat, period))


@staff.get("/leaderboard")
@staff_required
def store_leaderboard():
    """Managers see every seat's figures; clerks see names and ranks, and figures only on their own row."""
    seat = current_seat()
    store_id = query_int("store_id", minimum=1, default=seat.store_id)
    if store_id != seat.store_id:
        raise Forbidden("Staff see the leaderboard of their own store only.")
    period = periods.named(query_str("period", max_length=10))
    rows = leaderboard(store_id, period)
    if seat.role == "manager":  # and the store's funnel: official-account follows, code scans, paying customers
        return jsonify(store_id=store_id, period=period.json(), items=rows, funnel=store_funnel(store_id, period))
    rows = [row if row["seat_id"] == seat.id else
            {"seat_id": row["seat_id"], "name": row["name"], "role": row["role"], "rank": row["rank"]}
            for row in rows]
    return jsonify(store_id=store_id, period=period.json(), items=rows)


@staff.post("/commission/adjustments")
@manager_required
def adjust_commission():
    body = json_body()
    entry = ledger.adjust(current_seat(), body_int(body, "seat_id", minimum=1),
                          body_int(body, "amount_fen", minimum=-ledger.MAX_ADJUSTMENT_FEN,
                                   maximum=ledger.MAX_ADJUSTMENT_FEN),
                          body_str(body, "reason", max_length=200))
    db.session.commit()
    return jsonify(id=entry.id, seat_id=entry.seat_id, kind=entry.kind, amount_fen=entry.amount_fen,
                   reason=entry.reason, created_at=iso(entry.created_at)), 201


@staff.post("/orders/<order_no>/refund")
@manager_required
def refund_after_pickup(order_no: str):
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist at this store.")
    order = refund_picked_up(current_seat(), order_no)
    db.session.commit()
    return jsonify(order_json(order))
