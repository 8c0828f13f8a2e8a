"""Today and Orders: mark ready, refund (reason required), search, escaping, and every query scoped to the stores
a manager runs."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order, Product, Refund
from app.payments.gateway import RefundState
from app.payments.refunds import apply_refund_state
from tests.console.conftest import post, run_jobs


def _status(app, order_no: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Order.status).where(Order.order_no == order_no))


def test_today_lists_a_paid_order_and_marks_it_ready(owner, shops, paid_at, app):
    order = paid_at(shops.store_a)
    page = owner.get(f"/console/today?store={shops.store_a}").get_data(as_text=True)
    assert order.order_no in page and "已备好" in page
    picked = post(owner, f"/console/orders/{order.order_no}/refund", {"reason": "x" * 61})
    assert picked.status_code == 400 and _status(app, order.order_no) == "paid"
    response = post(owner, f"/console/orders/{order.order_no}/ready", {"back": "today", "store": shops.store_a})
    assert response.status_code == 302 and f"store={shops.store_a}" in response.headers["Location"]
    assert _status(app, order.order_no) == "ready"
    board = owner.get(f"/console/today/board?store={shops.store_a}").get_data(as_text=True)
    assert 'id="lane-ready"' in board and order.order_no in board
    # Twice is harmless.
    assert post(owner, f"/console/orders/{order.order_no}/ready").status_code == 302


def test_refund_needs_a_reason_and_goes_through_wechat_pay(owner, shops, paid_at, app):
    order = paid_at(shops.store_a)
    refused = post(owner, f"/console/orders/{order.order_no}/refund", {"reason": "  "})
    assert refused.status_code == 400 and _status(app, order.order_no) == "paid"
    response = post(owner, f"/console/orders/{order.order_no}/refund", {"reason": "顾客不要了"})
    assert response.status_code == 302
    run_jobs(app)
    with app.app_context():
        refund = db.session.scalars(select(Refund)).one()
        # Asked of WeChat Pay after the commit (the sandbox knows the payment): accepted, the outcome to come.
        assert refund.reason == "顾客不要了" and refund.status != "requested"
        # WeChat Pay then closes it (a refund that failed): the order needs a person.
        apply_refund_state(refund, RefundState(refund.out_refund_no, "CLOSED"), "wechatpay:refund_notify")
        db.session.commit()
    assert _status(app, order.order_no) == "refund_failed"
    assert "退款失败" in owner.get(f"/console/orders/{order.order_no}").get_data(as_text=True)
    # A person tries again from the console: a new out_refund_no.
    assert post(owner, f"/console/orders/{order.order_no}/refund", {"reason": "再退一次"}).status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(Refund)).all()) == 2


def test_order_page_shows_items_events_payment_and_code(owner, shops, paid_at):
    order = paid_at(shops.store_a)
    page = owner.get(f"/console/orders/{order.order_no}").get_data(as_text=True)
    assert "拿铁" in page and f"4200{order.order_no}" in page and "未核销" in page and "placed" in page


def test_order_search(owner, shops, paid_at):
    order = paid_at(shops.store_a)
    assert order.order_no in owner.get(f"/console/orders?order_no={order.order_no}").get_data(as_text=True)
    assert order.order_no in owner.get("/console/orders?status=paid").get_data(as_text=True)
    assert order.order_no not in owner.get("/console/orders?status=ready").get_data(as_text=True)
    assert order.order_no not in owner.get(f"/console/orders?store={shops.store_b}").get_data(as_text=True)
    assert owner.get("/console/orders?phone=12ab").status_code == 400
    assert owner.get("/console/orders?date=not-a-date").status_code == 400


def test_manager_sees_and_changes_only_their_stores(manager_of_a, shops, paid_at, app):
    mine, theirs = paid_at(shops.store_a), paid_at(shops.store_b, "bob")
    client = manager_of_a
    assert client.get(f"/console/today?store={shops.store_b}").status_code == 403
    assert client.get(f"/console/today/board?store={shops.store_b}").status_code == 403
    assert client.get(f"/console/staff?store={shops.store_b}").status_code == 403
    assert client.get(f"/console/stores/{shops.store_b}").status_code == 403
    assert client.get(f"/console/orders?store={shops.store_b}").status_code == 403
    assert client.get(f"/console/orders/{theirs.order_no}").status_code == 404
    listing = client.get("/console/orders").get_data(as_text=True)
    assert mine.order_no in listing and theirs.order_no not in listing
    assert "乙店" not in client.get("/console/catalog").get_data(as_text=True)
    assert post(client, f"/console/orders/{theirs.order_no}/ready").status_code == 404
    assert post(client, f"/console/orders/{theirs.order_no}/refund", {"reason": "x"}).status_code == 404
    assert post(client, "/console/catalog/stock", {"store_id": shops.store_b, "sku_id": shops.sku_id,
                                                   "quantity": 0}).status_code == 403
    assert post(client, f"/console/staff/invite?store={shops.store_b}", {"role": "clerk"}).status_code == 403
    assert _status(app, theirs.order_no) == "paid"
    # Owner-only pages.
    assert client.get("/console/users").status_code == 403
    assert client.get("/console/catalog/import").status_code == 403
    # Their own store works.
    assert post(client, f"/console/orders/{mine.order_no}/ready").status_code == 302
    assert _status(app, mine.order_no) == "ready"


def test_viewer_reads_but_changes_nothing(client, make_user, shops, paid_at, app):
    from tests.console.conftest import sign_in

    make_user("eve", "viewer", [shops.store_a])
    sign_in(client, "eve")
    order = paid_at(shops.store_a)
    assert "已备好" not in client.get(f"/console/today?store={shops.store_a}").get_data(as_text=True)
    assert post(client, f"/console/orders/{order.order_no}/ready").status_code == 403
    assert _status(app, order.order_no) == "paid"


def test_user_text_is_escaped(owner, shops, app):
    # In the test's own app context, which the client's requests share (no stale MariaDB snapshot).
    db.session.get(Product, db.session.scalar(select(Product.id))).title = "<script>alert(1)</script>"
    db.session.commit()
    page = owner.get("/console/catalog").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
