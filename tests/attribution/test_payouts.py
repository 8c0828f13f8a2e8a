"""Paying net commission out by WeChat Pay's merchant transfer (user-confirm version), against the sandbox over
HTTP: one bill per payout, the clerk's confirmation, the final-state notification applied once, the balance never
overspent."""
import pytest
import requests
from sqlalchemy import select

from app.commission.payouts import payable_fen
from app.extensions import db
from app.models import CommissionPayout, TransferNotification
from tests import factories
from tests.attribution.conftest import REDEEM, rule
from tests.checkout.conftest import live  # noqa: F401 (fixture: the app over HTTP, so the sandbox can notify it)
from tests.conftest import mariadb_only
from tests.pickup.conftest import Shop, run_jobs, sandbox_records
from tests.race import run_together, wait_for

PAYOUTS, MINE = "/api/v1/staff/payouts", "/api/v1/staff/me/payouts"


def payout_row(out_bill_no: str) -> CommissionPayout:
    db.session.rollback()
    return db.session.scalar(select(CommissionPayout).where(CommissionPayout.out_bill_no == out_bill_no))


def earn(client, shop, paid_order, clerk, times=1):
    for n in range(times):
        assert client.post(REDEEM, headers=clerk.headers,
                           json={"code": paid_order(shop, f"buyer{n}").code}).status_code == 200


def confirm(sandbox, out_bill_no, **options):
    response = requests.post(f"{sandbox.base_url}/sandbox/pay/transfer-bills/{out_bill_no}/confirm",
                             json={"notify": True, **options}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_payout_is_confirmed_by_the_clerk_and_notified_once(app, client, shop, paid_order, staff_member, sandbox,
                                                              live, app_ctx):
    rule(shop.store_id, per_handover_fen=500)
    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    earn(client, shop, paid_order, clerk, times=2)
    response = client.post(PAYOUTS, headers=manager.headers, json={"seat_id": clerk.seat_id})
    assert response.status_code == 201, response.get_json()
    out_bill_no = response.get_json()["out_bill_no"]
    run_jobs(app)
    mine = client.get(MINE, headers=clerk.headers).get_json()
    assert mine["payable_fen"] == 0
    bill = mine["items"][0]
    assert bill["state"] == "WAIT_USER_CONFIRM" and bill["amount_fen"] == 1000
    fields = bill["request_merchant_transfer"]
    assert fields["mchId"] == app.config["WECHATPAY_MCHID"] and fields["appId"] == app.config["STAFF_MINIPROGRAM_APPID"]
    sent = [r for r in sandbox_records(sandbox, "v3/fund-app/mch-transfer/transfer-bills")][-1]["payload"]["body"]
    assert sent["openid"] == f"staff{clerk.seat_id}" and sent["transfer_amount"] == 1000
    assert sent["transfer_scene_id"] == "1005" and sent["notify_url"].endswith("/payments/wechatpay/transfer-notify")
    done = confirm(sandbox, out_bill_no)
    wait_for(lambda: payout_row(out_bill_no).state == "SUCCESS", what="the transfer notification")
    # WeChat repeats the notification: answered, never applied again.
    requests.post(f"{sandbox.base_url}/sandbox/pay/transfer-bills/{out_bill_no}/notify", json={"times": 3},
                  timeout=10).raise_for_status()
    wait_for(lambda: len([r for r in sandbox_records(sandbox, "notify")
                          if r["payload"].get("id") == done["notification_id"] and r["payload"].get("delivered")])
             >= 4, what="the repeats answered")
    db.session.rollback()
    assert db.session.get(TransferNotification, done["notification_id"]).outcome == "payout_success"
    assert db.session.query(CommissionPayout).count() == 1 and payable_fen(clerk.seat_id) == 0
    assert confirm_again(sandbox, out_bill_no) == 409


def confirm_again(sandbox, out_bill_no) -> int:
    return requests.post(f"{sandbox.base_url}/sandbox/pay/transfer-bills/{out_bill_no}/confirm", json={},
                         timeout=10).status_code


def test_a_failed_transfer_makes_the_amount_payable_again(app, client, shop, paid_order, staff_member, sandbox,
                                                          live, app_ctx):
    rule(shop.store_id, per_handover_fen=300)
    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    earn(client, shop, paid_order, clerk)
    out_bill_no = client.post(PAYOUTS, headers=manager.headers,
                              json={"seat_id": clerk.seat_id, "amount_fen": 200}).get_json()["out_bill_no"]
    run_jobs(app)
    assert payable_fen(clerk.seat_id) == 100
    confirm(sandbox, out_bill_no, state="FAIL", fail_reason="PAYEE_ACCOUNT_ABNORMAL")
    wait_for(lambda: payout_row(out_bill_no).state == "FAIL", what="the failure")
    assert payout_row(out_bill_no).fail_reason == "PAYEE_ACCOUNT_ABNORMAL" and payable_fen(clerk.seat_id) == 300


def test_payouts_refuse_more_than_is_payable_and_other_stores(client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, per_handover_fen=100)
    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    earn(client, shop, paid_order, clerk)
    too_much = client.post(PAYOUTS, headers=manager.headers, json={"seat_id": clerk.seat_id, "amount_fen": 101})
    assert too_much.status_code == 409 and too_much.get_json()["error"]["code"] == "insufficient_commission"
    assert client.post(PAYOUTS, headers=clerk.headers, json={"seat_id": clerk.seat_id}).status_code == 403
    other = staff_member(factories.store(), "manager")
    assert client.post(PAYOUTS, headers=other.headers, json={"seat_id": clerk.seat_id}).status_code == 404
    nothing = staff_member(shop.store_id)
    assert client.post(PAYOUTS, headers=manager.headers, json={"seat_id": nothing.seat_id}).status_code == 409
    for bad in ({}, {"seat_id": "1"}, {"seat_id": clerk.seat_id, "amount_fen": 0},
                {"seat_id": clerk.seat_id, "amount_fen": True}):
        assert client.post(PAYOUTS, headers=manager.headers, json=bad).status_code == 400, bad
    assert db.session.query(CommissionPayout).count() == 0


def test_the_sandbox_is_as_strict_as_wechat_pay(app, sandbox, app_ctx):
    from app.payments.gateway import GatewayError
    from payments.transfers import WeChatPayTransfers

    client = app.extensions["wechatpay_client"]()
    base = dict(appid=app.config["STAFF_MINIPROGRAM_APPID"], openid="someone", amount_fen=100, remark="门店佣金")
    no_report = WeChatPayTransfers(client, app.config["WECHATPAY_MCHID"], "http://127.0.0.1:1", "1005", [])
    with pytest.raises(GatewayError) as refused:
        no_report.transfer(out_bill_no="CP0000000001", **base)
    assert refused.value.code == "PARAM_ERROR" and not refused.value.retryable
    gateway = app.extensions["transfer_gateway"]()
    for change in ({"out_bill_no": "CP-0001"}, {"remark": "长" * 33}, {"appid": "wx0000000000unknown"},
                   {"amount_fen": 0}):
        with pytest.raises(GatewayError):
            gateway.transfer(**{**base, "out_bill_no": "CP0000000002", **change})
    first = gateway.transfer(out_bill_no="CP0000000003", **base)
    assert first.state == "WAIT_USER_CONFIRM" and first.package_info
    assert gateway.transfer(out_bill_no="CP0000000003", **base).transfer_bill_no == first.transfer_bill_no
    with pytest.raises(GatewayError):
        gateway.transfer(out_bill_no="CP0000000003", **{**base, "amount_fen": 101})
    assert gateway.query_transfer("CP0000000003").state == "WAIT_USER_CONFIRM"
    assert gateway.query_transfer("CP0000000404") is None


@mariadb_only
def test_two_payouts_at_once_cannot_spend_one_balance(app, client, paid_order, staff_member, sandbox):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 10})
        rule(store_id, per_handover_fen=700)
    clerk, manager = staff_member(store_id), staff_member(store_id, "manager")
    with app.app_context():
        earn(client, Shop(store_id, made.sku_ids[0]), paid_order, clerk)
    responses = run_together([lambda: app.test_client().post(PAYOUTS, headers=manager.headers,
                                                              json={"seat_id": clerk.seat_id}) for _ in range(4)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.get_json() for r in responses]
    with app.app_context():
        assert db.session.query(CommissionPayout).count() == 1 and payable_fen(clerk.seat_id) == 0
