"""The staff mini-program's side of attribution and commission: the seat's own code, its figures, the store's
leaderboard, and a manager's adjustments and after-sale refunds."""
from __future__ import annotations

import re

from flask import Response, current_app, jsonify

from app.attribution.funnel import store_funnel
from app.attribution.scenes import current_scene
from app.commission import ledger, payouts, periods
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


def _payout_json(payout) -> dict:
    body = {"id": payout.id, "seat_id": payout.seat_id, "amount_fen": payout.amount_fen, "state": payout.state,
            "out_bill_no": payout.out_bill_no, "fail_reason": payout.fail_reason,
            "created_at": iso(payout.created_at), "updated_at": iso(payout.updated_at)}
    if payout.state == "WAIT_USER_CONFIRM" and payout.package_info:
        # What the staff mini-program passes to wx.requestMerchantTransfer so the clerk confirms the transfer.
        body["request_merchant_transfer"] = {"mchId": current_app.config["WECHATPAY_MCHID"], "appId": payout.appid,
                                             "package": payout.package_info}
    return body


@staff.post("/payouts")
@manager_required
def request_payout():
    """Manager: pay a seat of their store its net commission (or `amount_fen` of it) to its WeChat balance."""
    body = json_body()
    seat_id = body_int(body, "seat_id", minimum=1)
    amount_fen = body_int(body, "amount_fen", minimum=1, maximum=ledger.MAX_ADJUSTMENT_FEN, required=False)
    manager_id, store_id = current_seat().id, current_seat().store_id
    db.session.commit()  # request_payout starts its own transaction with its lock (see there)
    payout = payouts.request_payout(seat_id, amount_fen, f"staff:{manager_id}", store_id=store_id)
    db.session.commit()
    return jsonify(_payout_json(payout)), 201


@staff.get("/me/payouts")
@staff_required
def my_payouts():
    seat = current_seat()
    return jsonify(payable_fen=payouts.payable_fen(seat.id),
                   items=[_payout_json(p) for p in payouts.payouts_of(seat.id)])
