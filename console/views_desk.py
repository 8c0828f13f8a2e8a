"""Today (the counter's page) and Orders: search, one order's whole record, mark ready, refund."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for

from app.errors import InvalidRequest
from app.models import OrderStatus, utcnow
from app.operators import accounts
from app.operators.audit import record
from app.orders import desk
from console.auth import bp, writer_required
from console.forms import ActionForm, RefundForm
from console.scope import actor, chosen_store, store_ids

STATUS_TEXT = {"pending_payment": "待支付", "paid": "待制作", "ready": "待取货", "picked_up": "已取货",
               "cancelled": "已取消", "refunding": "退款中", "refunded": "已退款", "refund_failed": "退款失败"}
POLL_SECONDS = 10


@bp.app_template_filter("status_text")
def _status_text(status: str) -> str:
    return STATUS_TEXT.get(status, status)


@bp.app_template_filter("yuan")
def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen // 100}.{fen % 100:02d}"


@bp.app_template_filter("local")
def _local(value) -> str:
    from zoneinfo import ZoneInfo

    from flask import current_app
    return "" if value is None else value.astimezone(ZoneInfo(current_app.config["STORE_TIMEZONE"])) \
        .strftime("%m-%d %H:%M")


@bp.app_template_filter("age")
def _age(value) -> str:
    minutes = int((utcnow() - value).total_seconds() // 60)
    return f"{minutes} 分钟" if minutes < 120 else f"{minutes // 60} 小时"


@bp.route("/today")
def today():
    store, stores = chosen_store()
    return render_template("console/today.html", store=store, stores=stores, board=desk.today_board(store.id),
                           action=ActionForm(), refund_form=RefundForm(), poll_seconds=POLL_SECONDS)


@bp.route("/today/board")
def today_board():
    """The board alone, for the page's polling: the tablet at the counter stays current without a reload."""
    store, _ = chosen_store()
    return render_template("console/_board.html", store=store, board=desk.today_board(store.id),
                           action=ActionForm(), refund_form=RefundForm())


def _parse_day(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest("日期格式应为 YYYY-MM-DD。") from None


@bp.route("/orders")
def orders():
    stores = accounts.visible_stores(g.operator)
    args = request.args
    store_id = None
    if args.get("store"):
        if not args["store"].isdigit():
            raise InvalidRequest("门店不存在。")
        store_id = accounts.require_store(g.operator, int(args["store"])).id
    page = max(1, int(args["page"])) if args.get("page", "").isdigit() else 1
    found, total = desk.search_orders(store_ids(), order_no=args.get("order_no", "")[:32],
                                      phone_last4=args.get("phone", "").strip(), status=args.get("status", ""),
                                      store_id=store_id, day=_parse_day(args.get("date", "")),
                                      offset=(page - 1) * 50, limit=50)
    return render_template("console/orders.html", orders=found, total=total, page=page, stores=stores,
                           statuses=STATUS_TEXT, args=args)


@bp.route("/orders/<order_no>")
def order_detail(order_no: str):
    order = desk.store_order(order_no, store_ids())
    return render_template("console/order.html", rec=desk.order_record(order), action=ActionForm(),
                           refund_form=RefundForm(), refundable=order.status in desk.REFUNDABLE)


def _back(order_no: str):
    target = request.form.get("back", "")
    if target == "today":
        return redirect(url_for("console.today", store=request.form.get("store", "")))
    return redirect(url_for("console.order_detail", order_no=order_no))


@bp.route("/orders/<order_no>/ready", methods=["POST"])
@writer_required
def mark_ready(order_no: str):
    order = desk.store_order(order_no, store_ids())
    before = order.status
    if desk.mark_ready(order, actor()):
        record(g.operator, "order.ready", f"order:{order_no}", {"status": before}, {"status": order.status},
               order.store_id)
    flash(f"订单 {order_no} 已备好，已通知顾客取货。", "info")
    return _back(order_no)


@bp.route("/orders/<order_no>/refund", methods=["POST"])
@writer_required
def refund(order_no: str):
    order = desk.store_order(order_no, store_ids())
    form = RefundForm()
    if not form.validate():
        raise InvalidRequest("请填写退款原因（最多 60 字）。", {"fields": {"reason": "required"}})
    before = order.status
    refund_row = desk.refund(order, form.reason.data, actor())
    record(g.operator, "order.refund", f"order:{order_no}", {"status": before},
           {"status": order.status, "reason": refund_row.reason, "out_refund_no": refund_row.out_refund_no,
            "amount_fen": refund_row.amount_fen}, order.store_id)
    flash(f"订单 {order_no} 已发起退款。", "info")
    return _back(order_no)


STATUS_CHOICES = [s.value for s in OrderStatus]
