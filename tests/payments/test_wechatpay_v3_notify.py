"""Notifications end to end: the sandbox sends real signed, encrypted notifications to a receiver that parses them
with the real client; retries, duplicates, tampering, lost notifications and refund outcomes."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from payments.wechatpay_v3 import (
    BadSignatureError,
    MalformedMessageError,
    SignTestProbe,
    TimestampError,
    encrypt_resource,
)


@pytest.fixture
def ordered(client, appid):
    """Creates an unpaid order whose notify_url is the given receiver."""

    def make(receiver, out_trade_no: str = "MM-NOTIFY-0001", total: int = 2500) -> str:
        client.jsapi_prepay(appid, "拿铁", out_trade_no, receiver.url, total, "oPayer01",
                            datetime.now(timezone.utc) + timedelta(minutes=15))
        return out_trade_no

    return make


def _control(sandbox, path: str, **payload) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/sandbox/pay{path}", json=payload, timeout=5)


def _notify_records(sandbox_state, nid: str) -> list[dict]:
    return [r.payload for r in sandbox_state.records_of("notify") if r.payload["id"] == nid]


def test_payment_notification_arrives_signed_and_encrypted(sandbox, make_receiver, ordered, wait_for, appid):
    receiver = make_receiver([204])
    no = ordered(receiver)
    answer = _control(sandbox, f"/transactions/{no}/pay", notify=True)
    assert answer.status_code == 200
    (entry,) = wait_for(receiver.snapshot)
    note = entry["notification"]
    assert note.id == answer.json()["notification_id"]
    assert note.event_type == "TRANSACTION.SUCCESS" and note.resource_type == "encrypt-resource"
    assert note.summary == "支付成功" and note.create_time.endswith("+08:00")
    assert note.resource == answer.json()["transaction"]
    assert note.resource["trade_state"] == "SUCCESS" and note.resource["amount"]["total"] == 2500
    assert note.resource["appid"] == appid and note.resource["out_trade_no"] == no
    envelope = json.loads(entry["body"])
    assert envelope["resource"]["original_type"] == "transaction"
    assert set(envelope["resource"]) == {"original_type", "algorithm", "ciphertext", "associated_data", "nonce"}
    assert entry["headers"]["Wechatpay-Serial"].startswith("PUB_KEY_ID_")


def test_retries_until_success_then_stop(sandbox, sandbox_state, make_receiver, ordered, wait_for):
    receiver = make_receiver([500, 503, 200])
    no = ordered(receiver)
    nid = _control(sandbox, f"/transactions/{no}/pay").json()["notification_id"]
    wait_for(lambda: len(receiver.snapshot()) >= 3)
    time.sleep(0.5)  # longer than the rest of the fast schedule: no further attempt may come
    received = receiver.snapshot()
    assert len(received) == 3
    assert {e["notification"].id for e in received} == {nid}  # the id is stable across retries
    records = _notify_records(sandbox_state, nid)
    assert [(r["status"], r["delivered"]) for r in records] == [(500, False), (503, False), (200, True)]
    shown = requests.get(f"{sandbox.base_url}/sandbox/pay/transactions/{no}", timeout=5).json()
    assert shown["notifications"][0]["attempts"] == 3 and shown["notifications"][0]["delivered"] is True


def test_retries_stop_when_the_schedule_runs_out(sandbox, sandbox_state, sandbox_settings, make_receiver, ordered,
                                                 wait_for):
    receiver = make_receiver([500])
    nid = _control(sandbox, f"/transactions/{ordered(receiver)}/pay").json()["notification_id"]
    expected = 1 + len(sandbox_settings.notify_schedule_s)
    wait_for(lambda: len(_notify_records(sandbox_state, nid)) >= expected)
    time.sleep(0.3)
    assert len(receiver.snapshot()) == expected


def test_resend_duplicates_keep_the_id(sandbox, make_receiver, ordered, wait_for):
    receiver = make_receiver([204])
    no = ordered(receiver)
    nid = _control(sandbox, f"/transactions/{no}/pay").json()["notification_id"]
    wait_for(lambda: len(receiver.snapshot()) == 1)
    answer = _control(sandbox, f"/transactions/{no}/notify", times=2)
    assert answer.status_code == 202 and answer.json() == {"notification_id": nid, "times": 2}
    wait_for(lambda: len(receiver.snapshot()) == 3)
    _control(sandbox, f"/transactions/{no}/notify", times=3, concurrent=True)
    wait_for(lambda: len(receiver.snapshot()) == 6)
    assert {e["notification"].id for e in receiver.snapshot()} == {nid}
    assert _control(sandbox, "/transactions/MM-NONE-0001/notify").status_code == 404


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        ("signature", lambda e: isinstance(e.get("error"), BadSignatureError)),
        ("timestamp_old", lambda e: isinstance(e.get("error"), TimestampError)),
        ("amount", lambda e: e["notification"].resource["amount"]["total"] == 2501),
        ("mchid", lambda e: e["notification"].resource["mchid"] != "1900000001"),
        ("appid", lambda e: e["notification"].resource["appid"] == "wx0000000000tampered"),
    ],
)
def test_tampered_notifications(sandbox, sandbox_state, make_receiver, ordered, wait_for, client, tamper, check):
    receiver = make_receiver([204])
    no = ordered(receiver)
    assert _control(sandbox, f"/transactions/{no}/pay", tamper=tamper).status_code == 200
    entry = wait_for(receiver.snapshot)[0]
    assert check(entry)
    # The order itself is truly paid: what the notification claims can be checked against a query.
    assert client.query_by_out_trade_no(no)["amount"]["total"] == 2500


def test_unknown_tamper_mode_is_refused(sandbox, make_receiver, ordered):
    no = ordered(make_receiver())
    assert _control(sandbox, f"/transactions/{no}/pay", tamper="everything").status_code == 400


def test_lost_notifications_can_be_reconciled_by_query(sandbox, sandbox_state, make_receiver, ordered, client):
    receiver = make_receiver([204])
    no = ordered(receiver)
    assert _control(sandbox, "/lose-notifications", on=True).json() == {"on": True}
    nid = _control(sandbox, f"/transactions/{no}/pay").json()["notification_id"]
    time.sleep(0.3)
    assert receiver.snapshot() == []
    assert _notify_records(sandbox_state, nid) == [
        {"id": nid, "event_type": "TRANSACTION.SUCCESS", "url": receiver.url, "lost": True}
    ]
    assert client.query_by_out_trade_no(no)["trade_state"] == "SUCCESS"


def test_pay_refuses_unpayable_orders(sandbox, make_receiver, ordered, client, appid):
    receiver = make_receiver()
    no = ordered(receiver)
    assert _control(sandbox, f"/transactions/{no}/pay", notify=False).status_code == 200
    assert _control(sandbox, f"/transactions/{no}/pay").status_code == 409
    assert _control(sandbox, "/transactions/MM-NONE-0001/pay").status_code == 404
    client.jsapi_prepay(appid, "x", "MM-EXPIRED-01", receiver.url, 1, "oPayer01",
                        datetime.now(timezone.utc) - timedelta(seconds=1))
    assert _control(sandbox, "/transactions/MM-EXPIRED-01/pay").json()["code"] == "ORDER_EXPIRED"


@pytest.mark.parametrize(("status", "event"), [("SUCCESS", "REFUND.SUCCESS"), ("ABNORMAL", "REFUND.ABNORMAL"),
                                               ("CLOSED", "REFUND.CLOSED")])
def test_refund_notifications(sandbox, make_receiver, ordered, client, wait_for, status, event):
    receiver = make_receiver([204])
    no = ordered(receiver)
    _control(sandbox, f"/transactions/{no}/pay", notify=False)
    client.refund(no, "RF-NOTIFY-01", 2500, 2500, "顾客取消", receiver.url)
    answer = _control(sandbox, "/refunds/RF-NOTIFY-01/complete", status=status)
    assert answer.status_code == 200
    note = wait_for(receiver.snapshot)[0]["notification"]
    assert note.event_type == event
    assert note.resource["refund_status"] == status and note.resource["out_refund_no"] == "RF-NOTIFY-01"
    assert note.resource["amount"] == {"total": 2500, "refund": 2500, "payer_total": 2500, "payer_refund": 2500}
    assert ("success_time" in note.resource) == (status == "SUCCESS")
    assert json.loads(receiver.snapshot()[0]["body"])["resource"]["original_type"] == "refund"
    assert client.query_refund("RF-NOTIFY-01")["status"] == status
    # Only an ABNORMAL refund can still be finished (WeChat lets the merchant retry it); the others are final.
    again = _control(sandbox, "/refunds/RF-NOTIFY-01/complete", status="SUCCESS")
    assert again.status_code == (200 if status == "ABNORMAL" else 409)


def test_parse_notification_rejects_non_json_and_signtest(client, wechatpay_headers, dev_keys):
    with pytest.raises(MalformedMessageError):
        client.parse_notification(wechatpay_headers(b"not json"), b"not json")
    body = json.dumps({"id": "EV-1", "event_type": "TRANSACTION.SUCCESS", "resource_type": "plain"}).encode()
    with pytest.raises(MalformedMessageError):
        client.parse_notification(wechatpay_headers(body), body)
    resource = encrypt_resource({"out_trade_no": "X"}, dev_keys.apiv3_key, original_type="transaction")
    body = json.dumps({"id": "EV-2", "create_time": "2024-05-01T12:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
                       "resource_type": "encrypt-resource", "summary": "支付成功", "resource": resource}).encode()
    assert client.parse_notification(wechatpay_headers(body), body).resource == {"out_trade_no": "X"}
    probe = {**wechatpay_headers(body), "Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc"}
    with pytest.raises(SignTestProbe):
        client.parse_notification(probe, body)


def test_sandbox_page_lists_unpaid_orders_and_pays_by_form(sandbox, make_receiver, ordered, client):
    no = ordered(make_receiver())
    page = requests.get(f"{sandbox.base_url}/sandbox/pay", timeout=5)
    assert page.status_code == 200 and no in page.text and "<button>Pay</button>" in page.text
    # What a browser sends for a form holding only a button: an empty urlencoded body.
    paid = requests.post(f"{sandbox.base_url}/sandbox/pay/transactions/{no}/pay", data=b"", timeout=5,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert paid.status_code == 303
    assert client.query_by_out_trade_no(no)["trade_state"] == "SUCCESS"
    assert no not in requests.get(f"{sandbox.base_url}/sandbox/pay", timeout=5).text
