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
from app.orders.after_sale import refund_picked_up
from app.uow import commit_before_calling_wechat, commit_so_a_lock_comes_first
from app.wechat.wxacode import code_page, unlimited_code
from miniprogram_api.api_spec import operation
from miniprogram_api.render import iso, order_json
from miniprogram_api.schemas.commission import (AdjustmentBody, AdjustmentOut, LeaderboardOut, LeaderboardQuery,
                                                PayoutBody, PayoutOut, PayoutsOut, SeatStatsOut, StatsQuery)
from miniprogram_api.schemas.orders import OrderOut
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required

COMMISSION = ("staff", "commission")
_ORDER_NO = re.compile(r"^[0-9]{1,32}$")


@staff.get("/me/code")
@staff_required
@operation(tags=COMMISSION, ok=None, media_type="image/jpeg", authenticated=True, errors=(503,))
def my_code():
    """This seat's personal mini-program code (image/jpeg from getwxacodeunlimit)

    The consumer mini-program's code whose scene attributes to this seat; 503 upstream_unavailable when WeChat does
    not make it."""
    seat = current_seat()
    scene = current_scene(seat.store_id, seat.id)
    commit_before_calling_wechat()  # a scene made on first use is kept, whatever WeChat answers
    image, content_type = unlimited_code(scene.scene, code_page())
    response = Response(image, content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@staff.get("/me/stats")
@staff_required
@operation(tags=COMMISSION, query=StatsQuery, ok=SeatStatsOut, authenticated=True)
def my_stats(query: StatsQuery):
    """Customers attributed, their orders and amount paid, handovers, median minutes ready-to-handover, commission
    earned/reversed/adjusted/net (default: this month)"""
    period = periods.between(query.from_, query.to)
    seat = current_seat()
    return jsonify(seat_id=seat.id, period=period.json(), **seat_stats(seat, period))


@staff.get("/leaderboard")
@staff_required
@operation(tags=COMMISSION, query=LeaderboardQuery, ok=LeaderboardOut, authenticated=True, errors=(403,))
def store_leaderboard(query: LeaderboardQuery):
    """The store's staff ranked by net commission; managers see every seat's figures and the store's funnel, clerks
    see names and ranks, and figures only on their own row"""
    seat = current_seat()
    store_id = seat.store_id if query.store_id is None else query.store_id
    if store_id != seat.store_id:
        raise Forbidden("Staff see the leaderboard of their own store only.")
    period = periods.named(query.period)
    rows = leaderboard(store_id, period)
    if seat.role == "manager":  # and the store's funnel: official-account follows, code scans, paying customers
        return jsonify(store_id=store_id, period=period.json(), items=rows, funnel=store_funnel(store_id, period))
    rows = [row if row["seat_id"] == seat.id else
            {"seat_id": row["seat_id"], "name": row["name"], "role": row["role"], "rank": row["rank"]}
            for row in rows]
    return jsonify(store_id=store_id, period=period.json(), items=rows)


@staff.post("/commission/adjustments")
@manager_required
@operation(tags=COMMISSION, json=AdjustmentBody, ok=AdjustmentOut, status=201, authenticated=True,
           errors=(403, 404))
def adjust_commission(json: AdjustmentBody):
    """Manager: a signed ledger adjustment for a seat of their store, with a reason"""
    entry = ledger.adjust(current_seat(), json.seat_id, json.amount_fen, json.reason)
    return jsonify(id=entry.id, seat_id=entry.seat_id, kind=entry.kind, amount_fen=entry.amount_fen,
                   reason=entry.reason, created_at=iso(entry.created_at)), 201


@staff.post("/orders/<order_no>/refund")
@manager_required
@operation(tags=COMMISSION, ok=OrderOut, authenticated=True, errors=(403, 404, 409))
def refund_after_pickup(order_no: str):
    """Manager: refund a picked-up order (after-sale); its commission is reversed when the refund succeeds"""
    if not _ORDER_NO.match(order_no):
        raise NotFound(f"Order {order_no} does not exist at this store.")
    order = refund_picked_up(current_seat(), order_no)
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
@operation(tags=COMMISSION, json=PayoutBody, ok=PayoutOut, status=201, authenticated=True, errors=(403, 404, 409))
def request_payout(json: PayoutBody):
    """Manager: pay a seat's net commission (or amount_fen of it) to its WeChat balance by merchant transfer; 409
    insufficient_commission, 409 seat_not_payable"""
    manager_id, store_id = current_seat().id, current_seat().store_id
    commit_so_a_lock_comes_first()  # request_payout's first statement locks the seat (see there)
    payout = payouts.request_payout(json.seat_id, json.amount_fen, f"staff:{manager_id}", store_id=store_id)
    return jsonify(_payout_json(payout)), 201


@staff.get("/me/payouts")
@staff_required
@operation(tags=COMMISSION, ok=PayoutsOut, authenticated=True)
def my_payouts():
    """The seat's payable commission and payouts; a bill waiting for the clerk carries the wx.requestMerchantTransfer
    fields"""
    seat = current_seat()
    return jsonify(payable_fen=payouts.payable_fen(seat.id),
                   items=[_payout_json(p) for p in payouts.payouts_of(seat.id)])
