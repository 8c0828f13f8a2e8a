"""WeChat Pay edges: a cancelled order's WeChat order closed no sooner than 5 minutes after creation; a refund
ABNORMAL is not final (asked again, finished later) and an operator retries with `micromall refunds retry`."""
from datetime import timedelta

import requests

from app.extensions import db
from app.models import Payment, Refund, utcnow
from app.sweeps import sweep_unclosed_orders
from tests.checkout.conftest import drain_jobs, order, pay_at_sandbox, sandbox_post
from tests.race import wait_for

CLOSE = "v3/pay/transactions/out-trade-no/<out_trade_no>/close"


def closes(sandbox, order_no):
    items = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": CLOSE}, timeout=5).json()["items"]
    return [i for i in items if f"/{order_no}/close" in i["payload"]["uri"]]


def test_a_cancel_right_after_prepay_closes_the_wechat_order_five_minutes_later(client, sandbox, placed, app):
    assert client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers).status_code == 200
    assert client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers).status_code == 200
    drain_jobs(app)
    assert closes(sandbox, placed.order_no) == []  # WeChat: not within 5 minutes of creation
    with app.app_context():
        assert sweep_unclosed_orders() == 0
    db.session.query(Payment).update({"created_at": utcnow() - timedelta(minutes=5, seconds=1)})
    db.session.commit()
    with app.app_context():
        assert sweep_unclosed_orders() == 1
    drain_jobs(app)
    wait_for(lambda: len(closes(sandbox, placed.order_no)) == 1, what="the close")
    db.session.rollback()
    assert db.session.query(Payment).one().closed_at is not None
    with app.app_context():
        assert sweep_unclosed_orders() == 0  # closed once


def _refund_abnormal(client, sandbox, placed, app) -> Refund:
    pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
    client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers)
    drain_jobs(app)
    refund = db.session.query(Refund).filter_by(order_id=order(placed.order_no).id).one()
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete",
                 {"status": "ABNORMAL", "notify": True})
    wait_for(lambda: order(placed.order_no).status == "refund_failed", what="refund_failed")
    return refund


def test_an_abnormal_refund_finished_later_still_refunds_the_order(client, sandbox, placed, app):
    refund = _refund_abnormal(client, sandbox, placed, app)
    # The merchant handles it in the merchant platform; WeChat Pay then reports SUCCESS.
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete",
                 {"status": "SUCCESS", "notify": True})
    wait_for(lambda: order(placed.order_no).status == "refunded", what="refunded after ABNORMAL")


def test_refunds_retry_asks_wechat_first_then_tells_the_operator(client, sandbox, placed, app):
    refund = _refund_abnormal(client, sandbox, placed, app)
    runner = app.test_cli_runner()
    still = runner.invoke(args=["refunds", "retry", placed.order_no])
    assert still.exit_code == 2 and "still_abnormal" in still.output and "merchant platform" in still.output
    # Finished at WeChat but the notification lost: the retry's query finds it.
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete",
                 {"status": "SUCCESS", "notify": False})
    done = runner.invoke(args=["refunds", "retry", placed.order_no])
    assert done.exit_code == 0 and "refunded" in done.output
    assert order(placed.order_no).status == "refunded"
    again = runner.invoke(args=["refunds", "retry", placed.order_no])
    assert again.exit_code != 0 and "not refund_failed" in again.output
    assert runner.invoke(args=["refunds", "retry", "NOPE"]).exit_code != 0


def test_refunds_retry_requests_a_closed_refund_anew(client, sandbox, placed, app):
    pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="paid")
    client.post(f"/api/v1/orders/{placed.order_no}/cancel", headers=placed.headers)
    drain_jobs(app)
    refund = db.session.query(Refund).filter_by(order_id=order(placed.order_no).id).one()
    sandbox_post(sandbox, f"/sandbox/pay/refunds/{refund.out_refund_no}/complete", {"status": "CLOSED", "notify": True})
    wait_for(lambda: order(placed.order_no).status == "refund_failed", what="refund_failed")
    result = app.test_cli_runner().invoke(args=["refunds", "retry", placed.order_no])
    assert result.exit_code == 0 and "requested" in result.output, result.output
    drain_jobs(app)
    db.session.rollback()
    refunds = db.session.query(Refund).filter_by(order_id=order(placed.order_no).id).order_by(Refund.id).all()
    assert [r.out_refund_no for r in refunds] == [f"R{placed.order_no}", f"R{placed.order_no}-1"]
    assert order(placed.order_no).status == "refunding"
