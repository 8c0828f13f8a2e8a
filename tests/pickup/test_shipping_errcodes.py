"""Shipping-info errcodes against the strict sandbox: temporary ones retried, permanent ones recorded with their
reason and never retried, and a retry after an unknown outcome that asks get_order instead of re-uploading."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ShippingReport, utcnow
from app.pickup import shipping
from tests.pickup.conftest import SHIPPING, inject_failure, run_jobs, sandbox_records
from wechat_sandbox.pay_v3_common import pay_area

REDEEM = "/api/v1/staff/pickups/redeem"
GET_ORDER = "wxa/sec/order/get_order"


def report(order_id: int) -> ShippingReport:
    db.session.commit()  # ends the read snapshot (MariaDB: repeatable read)
    return db.session.get(ShippingReport, order_id)


def handed_over(client, shop, paid_order, staff_member, **failure):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    if failure:
        inject_failure(sandbox=failure["sandbox"], path=SHIPPING, errcode=failure["errcode"],
                       times=failure.get("times", 1))
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    return order


@pytest.mark.parametrize("errcode", [10060004, 10060031, 47001])
def test_a_permanent_refusal_is_recorded_with_its_reason_and_never_retried(app, client, shop, paid_order,
                                                                         staff_member, sandbox, app_ctx, errcode):
    order = handed_over(client, shop, paid_order, staff_member, sandbox=sandbox, errcode=errcode)
    run_jobs(app)
    row = report(order.order_id)
    assert row.reported_at is None and row.last_errcode == errcode and row.failure_reason
    db.session.query(ShippingReport).update({"created_at": utcnow() - timedelta(hours=1)})
    db.session.commit()
    assert shipping.report_unreported_pickups() == 0  # the sweep leaves it to a person
    assert len(sandbox_records(sandbox, SHIPPING)) == 1


@pytest.mark.parametrize("errcode", [10060001, -1, 45011])
def test_a_temporary_error_is_retried(app, client, shop, paid_order, staff_member, sandbox, app_ctx, errcode):
    order = handed_over(client, shop, paid_order, staff_member, sandbox=sandbox, errcode=errcode, times=5)
    run_jobs(app)
    row = report(order.order_id)
    assert row.reported_at is None and row.last_errcode == errcode and row.failure_reason is None
    inject_failure(sandbox, SHIPPING, errcode, times=0)
    assert shipping.report_pickup(order.order_id) == "reported"


def test_a_refunded_payment_found_by_get_order_is_not_uploaded(app, client, shop, paid_order, staff_member, sandbox,
                                                              app_ctx):
    order = handed_over(client, shop, paid_order, staff_member, sandbox=sandbox, errcode=-1, times=5)
    run_jobs(app)
    inject_failure(sandbox, SHIPPING, -1, times=0)
    st = sandbox.server.app.extensions["sandbox_state"]
    with st.lock:
        pay_area(st)["orders"][order.order_no]["trade_state"] = "REFUND"
    assert shipping.report_pickup(order.order_id) == "refused"
    assert report(order.order_id).failure_reason == "WeChat: the payment was refunded"


def test_a_lost_answer_does_not_spend_the_one_reupload(app, client, shop, paid_order, staff_member, sandbox,
                                                      app_ctx, monkeypatch):
    """WeChat took the upload but the answer was lost (a timeout): the retry asks get_order and stops there."""
    from app.wechat.http_adapter import HttpWeChatApi
    from app.wechat.port import WeChatUnavailable

    real_upload = HttpWeChatApi.upload_shipping_info

    def upload_then_lose_the_answer(self, payload):
        real_upload(self, payload)
        raise WeChatUnavailable("upload_shipping_info: ReadTimeout")

    monkeypatch.setattr(HttpWeChatApi, "upload_shipping_info", upload_then_lose_the_answer)
    order = handed_over(client, shop, paid_order, staff_member)
    run_jobs(app)
    assert report(order.order_id).reported_at is None
    monkeypatch.setattr(HttpWeChatApi, "upload_shipping_info", real_upload)
    assert shipping.report_pickup(order.order_id) == "reported"
    assert len(sandbox_records(sandbox, SHIPPING)) == 1  # the re-upload chance is still unused
    assert len(sandbox_records(sandbox, GET_ORDER)) == 1


def test_already_shipped_answers_count_as_reported(app, client, shop, paid_order, staff_member, sandbox, app_ctx):
    order = handed_over(client, shop, paid_order, staff_member, sandbox=sandbox, errcode=10060003)
    run_jobs(app)
    assert report(order.order_id).reported_at is not None
