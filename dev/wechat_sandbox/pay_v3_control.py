"""The sandbox's pay controls (no auth; they stand in for the payer and for WeChat Pay's back office):
pay an order, re-send its notification, finish a refund, lose notifications, and a small page to pay by hand."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template_string, request, url_for

from wechat_sandbox import pay_v3_notify as notify
from wechat_sandbox.pay_v3_common import (
    ACTIVE_REFUND_STATUSES,
    digits,
    is_expired,
    pay_area,
    refund_json,
    refund_notice_json,
    settings,
    state,
    transaction_json,
)
from wechat_sandbox.pay_v3_crypto import china_now

bp = Blueprint("pay_v3_control", __name__, url_prefix="/sandbox/pay")

REFUND_OUTCOMES = ("SUCCESS", "ABNORMAL", "CLOSED")

PAGE = """<!doctype html>
<html lang="zh-CN"><meta charset="utf-8"><title>WeChat Pay sandbox</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}</style>
<h1>WeChat Pay sandbox</h1>
<h2>Unpaid orders</h2>
{% if orders %}<table><tr><th>out_trade_no</th><th>description</th><th>total (fen)</th><th>payer</th><th></th></tr>
{% for o in orders %}<tr><td>{{ o.out_trade_no }}</td><td>{{ o.description }}</td><td>{{ o.total }}</td>
<td>{{ o.openid }}</td><td><form method="post" action="{{ url_for('.pay', out_trade_no=o.out_trade_no) }}">
<button>Pay</button></form></td></tr>{% endfor %}</table>
{% else %}<p>No unpaid orders.</p>{% endif %}
<h2>Refunds in progress</h2>
{% if refunds %}<table><tr><th>out_refund_no</th><th>out_trade_no</th><th>refund (fen)</th><th></th></tr>
{% for r in refunds %}<tr><td>{{ r.out_refund_no }}</td><td>{{ r.out_trade_no }}</td><td>{{ r.amount.refund }}</td>
<td><form method="post" action="{{ url_for('.complete_refund', out_refund_no=r.out_refund_no) }}">
<button>Refund succeeds</button></form></td></tr>{% endfor %}</table>
{% else %}<p>No refunds in progress.</p>{% endif %}
</html>"""


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(code=code, message=message)
    response.status_code = status
    return response


def _options() -> tuple[dict[str, Any], bool]:
    """The JSON options of a control call, and whether it came from the HTML page's form (then: redirect back)."""
    if request.is_json:
        data = request.get_json(silent=True)
        return (data if isinstance(data, dict) else {}), False
    return {}, request.mimetype == "application/x-www-form-urlencoded"


def _send_or_hold(note: dict[str, Any], send: bool) -> None:
    """Send now, or keep the notification for a later `/notify` (asked for, or notifications are being lost)."""
    if not send:
        return
    st = state()
    with st.lock:
        lose = pay_area(st)["lose_notifications"]
    if lose:
        notify.record_lost(st, note)
    else:
        notify.dispatch(st, settings(), note)


@bp.get("")
def page() -> str:
    st = state()
    with st.lock:
        area = pay_area(st)
        orders = [o for o in area["orders"].values() if o["trade_state"] == "NOTPAY" and not is_expired(o)]
        refunds = [r for r in area["refunds"].values() if r["status"] == "PROCESSING"]
    return render_template_string(PAGE, orders=orders, refunds=refunds)


@bp.post("/transactions/<out_trade_no>/pay")
def pay(out_trade_no: str) -> Response:
    options, from_form = _options()
    tamper = options.get("tamper")
    if tamper is not None and tamper not in notify.TAMPER_MODES:
        return _error(400, "PARAM_ERROR", f"tamper must be null or one of {', '.join(notify.TAMPER_MODES)}")
    st = state()
    with st.lock:
        order = pay_area(st)["orders"].get(out_trade_no)
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "no such order")
        if order["trade_state"] != "NOTPAY":
            return _error(409, "ORDER_NOT_PAYABLE", f"the order is {order['trade_state']}")
        if is_expired(order):
            return _error(409, "ORDER_EXPIRED", "the order passed its time_expire")
        payer_total = options.get("payer_total", order["total"])
        if isinstance(payer_total, bool) or not isinstance(payer_total, int) or payer_total < 0:
            return _error(400, "PARAM_ERROR", "payer_total must be a non-negative integer")
        order.update(
            trade_state="SUCCESS",
            transaction_id="42000" + digits(23),
            success_time=china_now(),
            payer_total=payer_total,
            bank_type=options.get("bank_type", "OTHERS"),
        )
        transaction = transaction_json(order)
    note = notify.create(
        st, settings(), subject=("transaction", out_trade_no), event_type="TRANSACTION.SUCCESS",
        resource=transaction, notify_url=order["notify_url"], tamper=tamper,
    )
    _send_or_hold(note, bool(options.get("notify", True)))
    if from_form:
        return redirect(url_for(".page"), 303)
    return jsonify(transaction=transaction, notification_id=note["id"])


@bp.post("/transactions/<out_trade_no>/notify")
def resend(out_trade_no: str) -> Response:
    return _resend(("transaction", out_trade_no))


@bp.post("/refunds/<out_refund_no>/notify")
def resend_refund(out_refund_no: str) -> Response:
    return _resend(("refund", out_refund_no))


def _resend(subject: tuple[str, str]) -> Response:
    """Send the subject's last notification again, same id and content (WeChat's duplicates), `times` times."""
    options, _ = _options()
    times = options.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 100:
        return _error(400, "PARAM_ERROR", "times must be an integer from 1 to 100")
    st = state()
    note = notify.last_for(st, subject)
    if note is None:
        return _error(404, "NOTIFICATION_NOT_EXIST", f"no notification for {subject[0]} {subject[1]}")
    notify.dispatch(st, settings(), note, times=times, concurrent=bool(options.get("concurrent", False)))
    response = jsonify(notification_id=note["id"], times=times)
    response.status_code = 202
    return response


@bp.post("/refunds/<out_refund_no>/complete")
def complete_refund(out_refund_no: str) -> Response:
    options, from_form = _options()
    status = options.get("status", "SUCCESS")
    if status not in REFUND_OUTCOMES:
        return _error(400, "PARAM_ERROR", f"status must be one of {', '.join(REFUND_OUTCOMES)}")
    st = state()
    with st.lock:
        area = pay_area(st)
        refund = area["refunds"].get(out_refund_no)
        if refund is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "no such refund")
        if refund["status"] not in ("PROCESSING", "ABNORMAL"):
            return _error(409, "REFUND_FINISHED", f"the refund is already {refund['status']}")
        refund["status"] = status
        refund["success_time"] = china_now() if status == "SUCCESS" else None
        order = area["orders"][refund["out_trade_no"]]
        if status == "CLOSED" and not any(
            r["out_trade_no"] == order["out_trade_no"] and r["status"] in ACTIVE_REFUND_STATUSES
            for r in area["refunds"].values()
        ):
            order["trade_state"] = "SUCCESS"  # no refund holds money any more: the trade is plainly paid again
        resource = refund_notice_json(refund, settings().mchid)
        answer = refund_json(refund)
    note = notify.create(
        st, settings(), subject=("refund", out_refund_no), event_type=f"REFUND.{status}",
        resource=resource, notify_url=refund["notify_url"],
    )
    _send_or_hold(note, bool(options.get("notify", True)))
    if from_form:
        return redirect(url_for(".page"), 303)
    return jsonify(refund=answer, notification_id=note["id"])


@bp.get("/transactions/<out_trade_no>")
def show(out_trade_no: str) -> Response:
    st = state()
    with st.lock:
        area = pay_area(st)
        order = area["orders"].get(out_trade_no)
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "no such order")
        notes = [
            {k: n[k] for k in ("id", "event_type", "notify_url", "tamper", "attempts", "delivered")}
            for n in area["notifications"].values()
            if n["subject"] == ["transaction", out_trade_no]
        ]
        return jsonify(
            transaction=transaction_json(order),
            prepay_id=order["prepay_id"],
            notify_url=order["notify_url"],
            time_expire=order["params"]["time_expire"],
            refunds=[refund_json(r) for r in area["refunds"].values() if r["out_trade_no"] == out_trade_no],
            notifications=notes,
        )


@bp.post("/lose-notifications")
def lose_notifications() -> Response:
    options, _ = _options()
    on = bool(options.get("on", True))
    st = state()
    with st.lock:
        pay_area(st)["lose_notifications"] = on
    return jsonify(on=on)
