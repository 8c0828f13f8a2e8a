"""After the counter: the shipping-info report (once per pickup, retried), no-show refunds (once), refunded codes."""
import re
from datetime import timedelta

from app import jobs
from app.extensions import db
from app.models import Order, OrderEvent, PickupCode, Refund, ShippingReport, StoreStock, utcnow
from app.pickup import noshow, shipping
from app.schedule import PERIODIC
from tests.pickup.conftest import SHIPPING, inject_failure, run_jobs, sandbox_records

REDEEM = "/api/v1/staff/pickups/redeem"


def test_a_pickup_is_reported_to_wechat_once(app, client, shop, paid_order, staff_member, sandbox, app_ctx):
    order, staff = paid_order(shop, "payer-1", quantity=2), staff_member(shop.store_id)
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    run_jobs(app)
    # a duplicate job, the sweep and a second redeem attempt change nothing
    assert shipping.report_pickup(order.order_id) == "skipped"
    db.session.query(ShippingReport).update({"created_at": utcnow() - timedelta(hours=1)})
    db.session.commit()
    assert shipping.report_unreported_pickups() == 0
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 409
    run_jobs(app)
    records = sandbox_records(sandbox, SHIPPING)
    assert len(records) == 1
    payload = records[0]["payload"]
    assert payload["logistics_type"] == 4 and payload["delivery_mode"] == 1
    assert payload["order_key"] == {"order_number_type": 2, "transaction_id": f"4200{order.order_no}"}
    assert payload["payer"] == {"openid": "payer-1"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", payload["upload_time"])
    assert payload["shipping_list"] == [{"item_desc": "拿铁 中杯×2"}]
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    report = db.session.get(ShippingReport, order.order_id)
    assert report.reported_at is not None and report.attempts == 1


def test_without_a_transaction_id_the_order_is_named_by_mchid_and_out_trade_no(shop, paid_order, app_ctx):
    order = db.session.get(Order, paid_order(shop).order_id)
    order.payment.transaction_id = None
    payload = shipping.shipping_payload(order, order.payment, utcnow())
    assert payload["order_key"] == {"order_number_type": 1, "mchid": app_ctx.config["WECHATPAY_MCHID"],
                                    "out_trade_no": order.order_no}
    db.session.rollback()


def test_a_failed_report_is_retried_until_it_is_made(app, client, shop, paid_order, staff_member, sandbox,
                                                      app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    inject_failure(sandbox, SHIPPING, -1, times=5)  # WeChat busy, longer than the first job's try
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    run_jobs(app)
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    assert db.session.get(ShippingReport, order.order_id).reported_at is None
    inject_failure(sandbox, SHIPPING, -1, times=0)
    try:
        shipping.report_pickup(order.order_id)  # what RQ's Retry does next
    except shipping.ShippingRetry:
        raise AssertionError("the sandbox no longer fails") from None
    assert shipping.report_pickup(order.order_id) == "skipped"
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    report = db.session.get(ShippingReport, order.order_id)
    assert report.reported_at is not None and report.last_errcode is None
    calls = sandbox_records(sandbox, SHIPPING)
    assert len(calls) == 2  # one refused by the injected failure, one made


def test_the_sweep_reports_a_lost_job(app, client, shop, paid_order, staff_member, sandbox, app_ctx, monkeypatch):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    monkeypatch.setattr(shipping, "enqueue_report", lambda order_id: None)  # the enqueue after the commit was lost
    enqueue_all = jobs.enqueue_all  # the handover enqueues its report with its other jobs: drop that one
    monkeypatch.setattr(jobs, "enqueue_all",
                        lambda calls: enqueue_all([c for c in calls if c.func is not shipping.report_pickup]))
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    run_jobs(app)
    assert sandbox_records(sandbox, SHIPPING) == []
    assert shipping.report_unreported_pickups() == 0  # too fresh: its own job may still be on the way
    db.session.query(ShippingReport).update({"created_at": utcnow() - timedelta(hours=1)})
    db.session.commit()
    assert shipping.report_unreported_pickups() == 1
    run_jobs(app)
    assert len(sandbox_records(sandbox, SHIPPING)) == 1
    assert shipping.report_unreported_pickups() == 0


def _stock(store_id, sku_id):
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    return db.session.get(StoreStock, (store_id, sku_id)).quantity


def test_a_no_show_is_refunded_once(app, client, shop, paid_order, staff_member, app_ctx):
    order, kept = paid_order(shop, quantity=3), paid_order(shop, "bob")
    assert _stock(shop.store_id, shop.sku_id) == 96
    db.session.query(PickupCode).filter_by(order_id=order.order_id).update(
        {"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert noshow.refund_no_shows() == 1
    assert noshow.refund_no_shows() == 0
    assert noshow.refund_no_show(order.order_id) is False
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    # (the sandbox never saw these test payments, so WeChat's answer to the refund itself may be a refusal)
    events = db.session.query(OrderEvent).filter_by(order_id=order.order_id, to_status="refunding").all()
    assert [(e.from_status, e.reason, e.actor) for e in events] == [("paid", "no_show", "system:no_show")]
    assert db.session.get(Order, kept.order_id).status == "paid"
    assert db.session.query(Refund).filter_by(order_id=order.order_id).one().reason == "no_show"
    assert _stock(shop.store_id, shop.sku_id) == 99  # 3 back, bob's 1 still held
    assert db.session.query(PickupCode).filter_by(order_id=order.order_id).one().revoked_at is not None
    staff = staff_member(shop.store_id)
    response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "order_not_redeemable"


def test_a_cancelled_paid_order_has_a_dead_code(client, shop, paid_order, staff_member, app_ctx):
    """The customer cancels a paid order: the refund path (start_refund) revokes the code."""
    order, staff = paid_order(shop), staff_member(shop.store_id)
    response = client.post(f"/api/v1/orders/{order.order_no}/cancel", headers=order.headers)
    assert response.status_code == 200, response.get_json()
    for path in ("/api/v1/staff/pickups/redeem", "/api/v1/staff/pickups/lookup"):
        response = client.post(path, headers=staff.headers, json={"code": order.code})
        if path.endswith("redeem"):
            assert response.status_code == 409
            assert response.get_json()["error"]["code"] == "order_not_redeemable"
        else:
            assert response.status_code == 200 and response.get_json()["redeemable"] is False
    assert client.get(f"/api/v1/orders/{order.order_no}/pickup", headers=order.headers).status_code == 409


def test_the_periodic_jobs_are_scheduled():
    targets = {jobs.target_of(func) for func, _ in PERIODIC}
    assert {"app.pickup.noshow:refund_no_shows", "app.pickup.shipping:report_unreported_pickups"} <= targets
