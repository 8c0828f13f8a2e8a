"""Refund round trips, refund notifications applied once, and payments recovered when their notification is lost."""
from datetime import timedelta

import requests

from app.extensions import db
from app.models import OrderEvent, Payment, Refund, RefundNotification, StoreStock, utcnow
from app.orders.cancellation import expire_order
from app.payments.reconciliation import reconcile_pending_payments
from tests.checkout.conftest import drain_jobs, order, pay_at_sandbox, sandbox_post
from tests.race import wait_for


def paid(client, sandbox, placed):
    pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")


def refund_of(order_no):
    o = order(order_no)
    return db.session.query(Refund).filter_by(order_id=o.id).one()


def test_refund_round_trip_applied_once(client, sandbox, placed, app):
    paid(client, sandbox, placed)
    response = client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "refunding"
    assert db.session.get(StoreStock, (placed.store_id, placed.sku_id)).quantity == 10  # stock back at once
    drain_jobs(app)
    refund = refund_of(placed.order_no)
    assert refund.status == "processing" and refund.out_refund_no == f"R{placed.order_no}"
    done = sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete",
                        {"status": "SUCCESS", "notify": True})
    wait_for(lambda: order(placed.order_no).status == "refunded", what="refunded")
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/notify", {"times": 5})
    wait_for(lambda: len([r for r in requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "notify"},
                                                  timeout=5).json()["items"]
                          if r["payload"].get("id") == done["notification_id"] and r["payload"].get("status")]) >= 6,
             what="the repeats answered")
    o = order(placed.order_no)
    assert db.session.query(OrderEvent).filter_by(order_id=o.id, to_status="refunded").count() == 1
    assert db.session.get(RefundNotification, done["notification_id"]).outcome == "refunded"
    assert refund_of(placed.order_no).status == "success"


def test_a_refund_wechat_closes_needs_a_person(client, sandbox, placed, app):
    paid(client, sandbox, placed)
    client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers)
    drain_jobs(app)
    refund = refund_of(placed.order_no)
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete", {"status": "ABNORMAL", "notify": True})
    wait_for(lambda: order(placed.order_no).status == "refund_failed", what="refund_failed")


def test_a_refund_request_retried_reuses_its_out_refund_no(client, sandbox, placed, app):
    from app.payments.refunds import request_refund

    paid(client, sandbox, placed)
    client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers)
    drain_jobs(app)
    refund = refund_of(placed.order_no)
    refund.status = "requested"  # as if the answer to the first request was lost
    db.session.commit()
    with app.app_context():
        assert request_refund(refund.id) == "processing"
    calls = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "v3/refund/domestic/refunds"},
                         timeout=5).json()["items"]
    assert {c["payload"]["body"]["out_refund_no"] for c in calls} == {refund.out_refund_no}
    assert len({c["payload"]["response"]["refund_id"] for c in calls}) == 1  # WeChat made one refund


def test_a_lost_notification_is_recovered_by_reconciliation(client, sandbox, placed, app_ctx):
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": True})
    pay_at_sandbox(client, sandbox, placed)
    assert reconcile_pending_payments() == 0  # within the quiet period nobody is asked
    payment = db.session.query(Payment).one()
    payment.created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert reconcile_pending_payments() == 1
    o = order(placed.order_no)
    assert o.status == "paid" and o.events[-1].actor == "wechatpay:query"
    assert reconcile_pending_payments() == 0  # and only once


def test_expiry_asks_wechat_first_and_applies_a_payment_it_finds(client, sandbox, placed, app_ctx):
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": True})
    pay_at_sandbox(client, sandbox, placed)
    o = order(placed.order_no)
    o.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert expire_order(o.id) is False
    assert order(placed.order_no).status == "paid"


def test_expiry_closes_the_wechat_order_then_cancels(client, sandbox, placed, app_ctx):
    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    o = order(placed.order_no)
    o.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert expire_order(o.id) is True
    db.session.commit()  # expire_order flushes; its job commits
    assert order(placed.order_no).status == "cancelled"
    transaction = requests.get(f"{sandbox.base_url}/sandbox/pay/transactions/{placed.order_no}", timeout=5).json()
    assert transaction["transaction"]["trade_state"] == "CLOSED"
    assert db.session.get(StoreStock, (placed.store_id, placed.sku_id)).quantity == 10
