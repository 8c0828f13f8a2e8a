"""Finding 7: notification ids are claimed per endpoint, and a notification of the wrong kind is refused before
anything is recorded, so its real delivery is applied."""
from app.extensions import db
from app.models import PaymentNotification, Refund, RefundNotification
from tests.checkout.conftest import order, pay_at_sandbox
from tests.race import wait_for


def refund_resource(app, placed, refund) -> dict:
    total = placed.total_fen
    return {"mchid": app.config["WECHATPAY_MCHID"], "out_trade_no": placed.order_no,
            "transaction_id": order(placed.order_no).payment.transaction_id, "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id or "50300000000000000001", "refund_status": "SUCCESS",
            "success_time": "2026-11-23T20:10:00+08:00", "user_received_account": "支付用户零钱",
            "amount": {"total": total, "refund": total, "payer_total": total, "payer_refund": total}}


def test_a_refund_notification_sent_to_the_payment_endpoint_does_not_eat_its_real_delivery(
        client, sandbox, placed, notifier, app_ctx):
    pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
    assert client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers).status_code == 200
    db.session.rollback()
    refund = db.session.query(Refund).one()
    body = notifier.body(refund_resource(app_ctx, placed, refund), event_type="REFUND.SUCCESS")
    before = db.session.query(PaymentNotification).count()

    wrong = notifier.post(body)  # the payment endpoint
    assert 400 <= wrong.status_code < 500 and wrong.json()["code"] == "FAIL"
    db.session.rollback()
    assert db.session.query(PaymentNotification).count() == before  # nothing recorded
    assert db.session.query(RefundNotification).count() == 0

    right = notifier.post(body, path="/payments/wechatpay/refund-notify")
    assert right.status_code == 204, right.text
    wait_for(lambda: order(placed.order_no).status == "refunded", what="refunded")
    assert db.session.query(RefundNotification).one().outcome == "refunded"


def test_a_payment_notification_sent_to_the_refund_endpoint_is_refused_and_recorded_nowhere(
        client, placed, notifier, app_ctx):
    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    body = notifier.body(notifier.resource(placed.order_no, placed.total_fen))
    wrong = notifier.post(body, path="/payments/wechatpay/refund-notify")
    assert 400 <= wrong.status_code < 500
    db.session.rollback()
    assert db.session.query(PaymentNotification).count() == 0 and db.session.query(RefundNotification).count() == 0
    assert notifier.post(body).status_code == 204  # its real delivery pays the order
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
