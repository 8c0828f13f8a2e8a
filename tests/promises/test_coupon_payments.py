"""The payable amount everywhere WeChat Pay is involved, against the sandbox over HTTP: the prepay asks for it, the
notification must carry it, a refund gives it back, and a reconciliation query checks it."""
import requests

from app.extensions import db
from app.models import Coupon, PaymentNotification
from app.payments.reconciliation import reconcile_order
from tests import factories
from tests.checkout.conftest import drain_jobs, live, notifier, sandbox_post  # noqa: F401 (fixtures)
from tests.promises.conftest import give_coupon, order_by_no, place
from tests.race import wait_for


def _order_with_coupon(client, shop, amount_fen=500):
    headers = factories.login(client, "alice")
    coupon_id = give_coupon("alice", [shop.store_id], amount_fen=amount_fen)
    body = place(client, headers, shop, coupon_id=coupon_id).get_json()
    assert (body["total_fen"], body["discount_fen"], body["payable_fen"]) == (5600, amount_fen, 5600 - amount_fen)
    return body["order_no"], headers, coupon_id


def _sandbox_transaction(sandbox, order_no):
    return requests.get(f"{sandbox.base_url}/sandbox/pay/transactions/{order_no}", timeout=5).json()


def test_prepay_notification_and_refund_use_the_payable_amount(client, sandbox, shop, live, app):
    order_no, headers, coupon_id = _order_with_coupon(client, shop)
    assert client.post(f"/api/v1/orders/{order_no}/pay", headers=headers).status_code == 200
    assert _sandbox_transaction(sandbox, order_no)["transaction"]["amount"]["total"] == 5100
    sandbox_post(sandbox, f"/sandbox/pay/transactions/{order_no}/pay", {"notify": True})
    wait_for(lambda: order_by_no(order_no).status == "paid", what="paid")
    assert db.session.get(Coupon, coupon_id).status == "used"
    assert order_by_no(order_no).payment.amount_fen == 5100

    cancelled = client.post(f"/api/v1/orders/{order_no}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "refunding"
    drain_jobs(app)
    refunds = _sandbox_transaction(sandbox, order_no)["refunds"]
    assert [(r["amount"]["refund"], r["amount"]["total"]) for r in refunds] == [(5100, 5100)]
    db.session.rollback()
    assert db.session.get(Coupon, coupon_id).status == "available"  # cancelled before pickup: given back


def test_a_notification_for_the_total_before_the_coupon_is_refused(client, shop, notifier, app):
    order_no, headers, _ = _order_with_coupon(client, shop)
    body = notifier.body(notifier.resource(order_no, 5600))
    response = notifier.post(body)
    assert response.status_code >= 400
    db.session.rollback()
    assert db.session.query(PaymentNotification).one().outcome == "rejected:amount_mismatch"
    assert order_by_no(order_no).status == "pending_payment"
    assert notifier.post(notifier.body(notifier.resource(order_no, 5100))).status_code == 204
    assert order_by_no(order_no).status == "paid"


def test_reconciliation_applies_a_payable_amount_found_by_query(client, sandbox, shop, live, app):
    order_no, headers, _ = _order_with_coupon(client, shop, amount_fen=800)
    assert client.post(f"/api/v1/orders/{order_no}/pay", headers=headers).status_code == 200
    sandbox_post(sandbox, f"/sandbox/pay/transactions/{order_no}/pay", {"notify": False})
    assert reconcile_order(order_by_no(order_no).id) == "applied"
    order = order_by_no(order_no)
    assert order.status == "paid" and order.payment.amount_fen == 4800
