"""Payment notifications: applied once however often they come; every forgery or mismatch changes nothing."""
import json
from datetime import timedelta

import pytest
import requests

from app import jobs
from app.extensions import db
from app.models import NotificationLog, OrderEvent, OutboxJob, Payment, PaymentNotification, StoreStock, utcnow
from app.sweeps import sweep_unclosed_orders
from tests.checkout.conftest import notify_attempts, order, pay_at_sandbox, sandbox_post
from tests.race import wait_for


def paid_events(order_no):
    o = order(order_no)
    return db.session.query(OrderEvent).filter_by(order_id=o.id, to_status="paid").count()


def test_a_notification_pays_the_order(client, sandbox, placed, app_ctx):
    result = pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
    o = order(placed.order_no)
    assert o.payment.transaction_id == result["transaction"]["transaction_id"]
    events = db.session.query(OrderEvent).filter_by(order_id=o.id).order_by(OrderEvent.id).all()
    assert [(e.from_status, e.to_status, e.reason, e.actor) for e in events][-1] == (
        "pending_payment", "paid", "payment_received", "wechatpay:notify")
    record = db.session.get(PaymentNotification, result["notification_id"])
    assert record.outcome == "applied" and record.out_trade_no == placed.order_no


def test_two_hundred_duplicates_make_one_transition_one_event_one_follow_up(client, sandbox, placed, app_ctx, backend):
    result = pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
    for _ in range(2):  # 200 more copies, many of them at the same moment
        sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/notify", {"times": 100, "concurrent": True})
    wait_for(lambda: len([a for a in notify_attempts(sandbox, result["notification_id"]) if a.get("status")]) >= 201,
             timeout=30, what="all copies answered")
    answers = {a["status"] for a in notify_attempts(sandbox, result["notification_id"]) if a.get("status")}
    assert answers == {204}
    assert paid_events(placed.order_no) == 1
    assert db.session.query(PaymentNotification).count() == 1
    if backend == "mariadb":  # one follow-up job for the customer's "paid" message, queued once
        queued = db.session.query(OutboxJob).filter(OutboxJob.target.endswith("send_order_notification")).all()
        assert len(queued) == 1 and jobs.queue().count >= 1
    else:  # in-process: it already ran, once (the customer gave no subscription grant: recorded, not sent)
        db.session.commit()
        assert [(n.kind, n.channel, n.status) for n in db.session.query(NotificationLog)] == [
            ("paid", "subscribe", "no_grant")]


@pytest.mark.parametrize("tamper", ["signature", "amount", "mchid", "appid", "timestamp_old"])
def test_tampered_notifications_from_the_sandbox_change_nothing(client, sandbox, placed, app_ctx, tamper):
    result = pay_at_sandbox(client, sandbox, placed, tamper=tamper)
    wait_for(lambda: notify_attempts(sandbox, result["notification_id"]), what="a delivery attempt")
    statuses = {a["status"] for a in notify_attempts(sandbox, result["notification_id"]) if a.get("status")}
    assert statuses and all(400 <= s < 500 for s in statuses)
    assert order(placed.order_no).status == "pending_payment" and paid_events(placed.order_no) == 0


def test_crafted_bad_notifications_are_refused_with_nothing_changed(client, placed, notifier, app_ctx):
    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    good = notifier.resource(placed.order_no, placed.total_fen)
    cases = {
        "unknown serial": notifier.post(notifier.body(good), serial="PUB_KEY_ID_0000000000000000000000000099"),
        "six minutes old": notifier.post(notifier.body(good), age_s=360),
        "from the future": notifier.post(notifier.body(good), age_s=-360),
        "signtest probe": notifier.post(notifier.body(good), signature="WECHATPAY/SIGNTEST/" + "A" * 300),
        "not json": notifier.post(b"this is not json"),
        "amount one fen off": notifier.post(notifier.body(notifier.resource(placed.order_no, placed.total_fen - 1))),
        "unknown order": notifier.post(notifier.body(notifier.resource("2611230000000000", placed.total_fen))),
        "not a success": notifier.post(notifier.body(notifier.resource(placed.order_no, placed.total_fen,
                                                                        trade_state="PAYERROR"))),
    }
    for name, response in cases.items():
        assert 400 <= response.status_code < 500, name
        assert response.json()["code"] == "FAIL", name
    assert order(placed.order_no).status == "pending_payment" and paid_events(placed.order_no) == 0
    # and the same notification, signed properly and fresh, is taken
    assert notifier.post(notifier.body(good)).status_code == 204
    assert order(placed.order_no).status == "paid"


def test_a_repeat_of_a_rejected_notification_is_rejected_again(client, placed, notifier, app_ctx):
    body = notifier.body(notifier.resource(placed.order_no, placed.total_fen + 1))
    assert notifier.post(body).status_code == 400
    assert notifier.post(body).status_code == 400
    assert order(placed.order_no).status == "pending_payment"
    assert db.session.query(PaymentNotification).one().outcome == "rejected:amount_mismatch"


def pay_just_after_cancelling(client, sandbox, placed) -> str:
    """The race: the customer cancels (and the WeChat order is closed) an instant before WeChat completes the
    payment; the notification arrives for a cancelled order. Returns the notification id."""
    from app.orders.cancellation import cancel_unpaid

    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": True})
    result = sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/pay", {"notify": True})
    cancel_unpaid(order(placed.order_no), "customer_cancel", "customer:test")
    db.session.commit()
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": False})
    sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/notify", {"times": 1})
    return result["notification_id"]


def stock_of(placed):
    db.session.rollback()
    return db.session.get(StoreStock, (placed.store_id, placed.sku_id)).quantity


def test_late_payment_with_stock_is_paid_and_takes_the_stock_again(client, sandbox, placed, app_ctx):
    notification_id = pay_just_after_cancelling(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="the late payment applied")
    o = order(placed.order_no)
    assert o.stock_reserved and stock_of(placed) == 8
    assert o.events[-1].reason == "late_payment_rereserved"
    assert db.session.get(PaymentNotification, notification_id).outcome == "late_paid"


def test_late_payment_without_stock_is_refunded_in_full(client, sandbox, placed, app):
    from tests.checkout.conftest import drain_jobs

    from app.orders.cancellation import cancel_unpaid

    # the race of pay_just_after_cancelling, and the stock the order gave back is sold before the notification comes
    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": True})
    result = sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/pay", {"notify": True})
    cancel_unpaid(order(placed.order_no), "customer_cancel", "customer:test")
    db.session.commit()
    with_stock_sold = db.session.get(StoreStock, (placed.store_id, placed.sku_id))
    with_stock_sold.quantity = 1
    db.session.commit()
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": False})
    sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/notify", {"times": 1})
    wait_for(lambda: order(placed.order_no).status != "cancelled", what="the late payment handled")
    drain_jobs(app)
    o = order(placed.order_no)
    assert o.status == "refunding" and o.events[-1].reason == "late_payment_no_stock"
    assert stock_of(placed) == 1
    assert db.session.get(PaymentNotification, result["notification_id"]).outcome == "late_refunded"
    # the refund request is a job: in-process it runs right after the notification's commit, on the server's thread
    refunds = wait_for(lambda: requests.get(f"{sandbox.base_url}/sandbox/records",
                                            params={"kind": "v3/refund/domestic/refunds"}, timeout=5).json()["items"],
                       what="the refund request")
    assert [(r["payload"]["status"], r["payload"]["body"]["amount"]["refund"]) for r in refunds] == [
        (200, placed.total_fen)]


def test_a_customer_cancel_that_finds_the_order_paid_at_wechat_takes_the_late_path(client, sandbox, placed, app):
    """The notification is lost; the customer cancels; closing the WeChat order answers ORDERPAID; the payment is
    found by a query and applied (stock is still there, so the order is paid)."""
    from tests.checkout.conftest import drain_jobs

    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    sandbox_post(sandbox, "/sandbox/pay/lose-notifications", {"on": True})
    sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/pay", {"notify": True})
    assert client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers).status_code == 200
    drain_jobs(app)
    # Too young to close (WeChat: 5 minutes after creation); the periodic close takes it once it is old enough.
    assert order(placed.order_no).status == "cancelled"
    db.session.query(Payment).update({"created_at": utcnow() - timedelta(minutes=6)})
    db.session.commit()
    with app.app_context():
        assert sweep_unclosed_orders() == 1
    drain_jobs(app)
    wait_for(lambda: order(placed.order_no).status == "paid", what="the late payment found by the close")
    assert order(placed.order_no).events[-1].actor == "wechatpay:query"


def test_a_pickup_code_collision_draws_again_inside_the_notifications_unit(client, placed, notifier, app_ctx,
                                                                           monkeypatch):
    """The code is inserted unless its key is taken (no SAVEPOINT): a taken code leaves the unit going on, and the
    next draw is the order's code."""
    from app.models import PickupCode
    from app.pickup import codes
    from tests import factories

    assert notifier.post(notifier.body(notifier.resource(placed.order_no, placed.total_fen))).status_code == 204
    first = db.session.query(PickupCode).one()
    other = client.post("/api/v1/orders", headers=factories.login(client, "bob"), json={
        "store_id": placed.store_id, "items": [{"sku_id": placed.sku_id, "quantity": 1}]}).get_json()
    draws = iter([first.code, "000000000042"])
    monkeypatch.setattr(codes, "_draw", lambda: next(draws))
    body = notifier.body(notifier.resource(other["order_no"], other["total_fen"]))
    assert notifier.post(body).status_code == 204
    paid = order(other["order_no"])
    assert paid.status == "paid" and paid.promised_ready_at is not None and paid_events(other["order_no"]) == 1
    assert db.session.query(PickupCode).filter_by(order_id=paid.id).one().code == "000000000042"
    assert db.session.query(PickupCode).filter_by(code=first.code).one().order_id == first.order_id
    assert db.session.get(PaymentNotification, json.loads(body)["id"]).outcome == "applied"


def test_another_event_type_is_recorded_by_its_claim_alone(placed, notifier, app_ctx):
    from tests.perf.conftest import counting

    body = notifier.body(notifier.resource(placed.order_no, placed.total_fen), event_type="TRANSACTION.CLOSED")
    db.session.commit()
    with counting() as seen:
        assert notifier.post(body).status_code == 204
    assert len(seen) == 1  # the claim, with the outcome it has: nothing to update
    assert db.session.get(PaymentNotification, json.loads(body)["id"]).outcome == "ignored:TRANSACTION.CLOSED"
    assert order(placed.order_no).status == "pending_payment"
