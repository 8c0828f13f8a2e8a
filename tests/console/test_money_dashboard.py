"""Money and Dashboard: figures from real orders, scoped to the manager's stores, CSV for the accountant, charts
as escaped SVG."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Refund, Store
from app.orders.dashboard import percentile
from app.payments.gateway import RefundState
from app.payments.refunds import apply_refund_state
from tests.console.conftest import post, run_jobs


def test_money_shows_payments_per_day_and_store_and_failed_refunds(owner, shops, paid_at, app):
    order = paid_at(shops.store_a)
    page = owner.get("/console/money").get_data(as_text=True)
    assert "甲店" in page and "¥28.00" in page and "没有需要人工处理的退款" in page
    # A refund WeChat Pay closes (it failed) needs a person: listed with a retry.
    post(owner, f"/console/orders/{order.order_no}/refund", {"reason": "顾客要求"})
    run_jobs(app)
    with app.app_context():
        refund = db.session.scalars(select(Refund)).one()
        apply_refund_state(refund, RefundState(refund.out_refund_no, "CLOSED"), "wechatpay:refund_notify")
        db.session.commit()
    page = owner.get("/console/money").get_data(as_text=True)
    assert order.order_no in page and "重试退款" in page
    csv_text = owner.get("/console/money.csv").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("date,store_id,store,payments,paid_fen")
    assert f",{shops.store_a},甲店,1,2800,28.00," in csv_text


def test_money_is_scoped_for_a_manager(manager_of_a, shops, paid_at):
    paid_at(shops.store_b, "bob")
    page = manager_of_a.get("/console/money").get_data(as_text=True)
    assert "乙店" not in page and "¥28.00" not in page
    assert "乙店" not in manager_of_a.get("/console/money.csv").get_data().decode("utf-8-sig")


def test_dashboard_charts_are_escaped_svg(owner, shops, paid_at, app):
    store = db.session.get(Store, shops.store_a)
    store.name = "<b>甲</b>"
    db.session.commit()
    order = paid_at(shops.store_a)
    post(owner, f"/console/orders/{order.order_no}/ready")
    page = owner.get("/console/dashboard").get_data(as_text=True)
    assert page.count("<svg") == 4 and "<b>甲</b>" not in page and "&lt;b&gt;甲&lt;/b&gt;" in page
    assert "中位 0 分钟" in page  # paid -> ready within the minute


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([5, 1, 3], 50) == 3
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([7], 90) == 7
