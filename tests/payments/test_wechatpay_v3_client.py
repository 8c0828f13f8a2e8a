"""The real client against the sandbox over HTTP: prepay, query, close, refund, and the signatures both ways."""
from __future__ import annotations

import base64
import socket
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import HTTPAdapter

from payments.wechatpay_v3 import (
    BadSignatureError,
    WeChatPayAPIError,
    WeChatPayTransportError,
    load_public_key,
)
APPID = "wxsandboxminiapp01"  # known to the sandbox (see conftest)
OPENID = "oSandboxPayer0001"


def _expire(minutes: int = 15) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def _prepay(client, out_trade_no: str = "MM20240501000001", total: int = 1999, notify_url=None, **kw) -> str:
    return client.jsapi_prepay(
        appid=APPID, description="门店自提 · 拿铁", out_trade_no=out_trade_no,
        notify_url=notify_url or "https://shop.example.com/payments/wechatpay/notify",
        total_fen=total, payer_openid=OPENID, time_expire=kw.pop("time_expire", _expire()), **kw,
    )


def _pay(sandbox, out_trade_no: str, **options) -> dict:
    response = requests.post(f"{sandbox.base_url}/sandbox/pay/transactions/{out_trade_no}/pay",
                             json={"notify": False, **options}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_prepay_returns_prepay_id_and_pay_sign_verifies_with_merchant_key(client, dev_keys, sandbox_state):
    prepay_id = _prepay(client, attach="store=7")
    assert prepay_id.startswith("wx")

    params = client.jsapi_payment_params(APPID, prepay_id)
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"] == f"prepay_id={prepay_id}" and params["signType"] == "RSA"
    message = f"{APPID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    load_public_key(dev_keys.merchant_public_key_path).verify(
        base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256()
    )

    (record,) = sandbox_state.records_of("v3/pay/transactions/jsapi")
    body = record.payload["body"]
    assert body["time_expire"].endswith("+08:00") and len(body["time_expire"]) == 25
    assert body["amount"] == {"total": 1999, "currency": "CNY"} and body["attach"] == "store=7"
    assert body["description"] == "门店自提 · 拿铁"


def test_prepay_is_idempotent_for_identical_params_and_refuses_a_changed_amount(client):
    expire = _expire()
    first = _prepay(client, time_expire=expire)
    assert _prepay(client, time_expire=expire) == first
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, total=2999, time_expire=expire)
    assert (exc.value.status, exc.value.code, exc.value.verified) == (400, "INVALID_REQUEST", True)
    assert not exc.value.retryable


def test_prepay_validation_errors(client):
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, out_trade_no="short")
    assert exc.value.code == "PARAM_ERROR"
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, notify_url="http://shop.example.com/notify")
    assert exc.value.code == "PARAM_ERROR"
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, total=0)
    assert exc.value.code == "PARAM_ERROR"
    with pytest.raises(WeChatPayAPIError) as exc:
        client.jsapi_prepay("wxunknownapp", "x", "MM20240501000009", "https://a.example/n", 1, OPENID, _expire())
    assert exc.value.code == "APPID_MCHID_NOT_MATCH"
    with pytest.raises(ValueError):
        _prepay(client, time_expire=datetime(2030, 1, 1))  # naive datetimes are refused before anything is sent


def test_sandbox_rejects_a_request_signed_with_another_key(sandbox, make_client, sandbox_state):
    intruder = make_client(sandbox.base_url, merchant_private_key=rsa.generate_private_key(65537, 2048))
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(intruder)
    assert (exc.value.status, exc.value.code) == (401, "SIGN_ERROR")
    assert sandbox_state.records_of("v3/pay/transactions/jsapi")[0].payload["status"] == 401


def test_sandbox_rejects_a_wrong_serial_or_mchid(sandbox, make_client):
    for overrides in ({"merchant_serial_no": "0" * 40}, {"mchid": "1900009999"}):
        with pytest.raises(WeChatPayAPIError) as exc:
            make_client(sandbox.base_url, **overrides).query_by_out_trade_no("MM20240501000001")
        assert exc.value.code == "SIGN_ERROR"


def test_query_close_and_states(client, sandbox):
    with pytest.raises(WeChatPayAPIError) as exc:
        client.query_by_out_trade_no("MM_NOT_THERE_01")
    assert (exc.value.status, exc.value.code) == (404, "ORDER_NOT_EXIST")

    _prepay(client, out_trade_no="MM-CLOSE-0001")
    assert client.query_by_out_trade_no("MM-CLOSE-0001")["trade_state"] == "NOTPAY"
    assert client.close("MM-CLOSE-0001") is None
    assert client.close("MM-CLOSE-0001") is None  # closing twice is harmless
    assert client.query_by_out_trade_no("MM-CLOSE-0001")["trade_state"] == "CLOSED"
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, out_trade_no="MM-CLOSE-0001")
    assert exc.value.code == "ORDER_CLOSED"


def test_paid_order_query_shape_and_orderpaid(client, sandbox):
    _prepay(client, out_trade_no="MM|PAID*0001", total=1999)  # | and * are legal and must be signed as sent
    paid = _pay(sandbox, "MM|PAID*0001", payer_total=1899)["transaction"]
    data = client.query_by_out_trade_no("MM|PAID*0001")
    assert data == paid
    assert data["trade_state"] == "SUCCESS" and data["trade_type"] == "JSAPI"
    assert data["transaction_id"] and data["success_time"].endswith("+08:00")
    assert data["amount"] == {"total": 1999, "payer_total": 1899, "currency": "CNY", "payer_currency": "CNY"}
    assert data["payer"] == {"openid": OPENID} and data["appid"] == APPID
    with pytest.raises(WeChatPayAPIError) as exc:
        _prepay(client, out_trade_no="MM|PAID*0001", total=1999)
    assert exc.value.code == "ORDERPAID"
    with pytest.raises(WeChatPayAPIError) as exc:
        client.close("MM|PAID*0001")
    assert exc.value.code == "ORDERPAID"


def test_refund_round_trip(client, sandbox):
    _prepay(client, out_trade_no="MM-REFUND-001", total=1000)
    with pytest.raises(WeChatPayAPIError) as exc:
        client.refund("MM-REFUND-001", "RF-001", 100, 1000, "售罄", None)
    assert exc.value.code == "INVALID_REQUEST"  # not paid yet
    _pay(sandbox, "MM-REFUND-001")

    refund = client.refund("MM-REFUND-001", "RF-001", 600, 1000, "售罄", "https://shop.example.com/refund-notify")
    assert refund["status"] == "PROCESSING" and refund["out_refund_no"] == "RF-001"
    assert refund["amount"]["refund"] == 600 and refund["amount"]["total"] == 1000
    assert client.refund("MM-REFUND-001", "RF-001", 600, 1000, "售罄", None)["refund_id"] == refund["refund_id"]
    with pytest.raises(WeChatPayAPIError) as exc:
        client.refund("MM-REFUND-001", "RF-002", 500, 1000, None, None)
    assert exc.value.code == "INVALID_REQUEST"  # 600 + 500 > 1000
    assert client.query_by_out_trade_no("MM-REFUND-001")["trade_state"] == "REFUND"

    response = requests.post(f"{sandbox.base_url}/sandbox/pay/refunds/RF-001/complete",
                             json={"status": "SUCCESS", "notify": False}, timeout=5)
    assert response.status_code == 200
    queried = client.query_refund("RF-001")
    assert queried["status"] == "SUCCESS" and queried["success_time"].endswith("+08:00")
    with pytest.raises(WeChatPayAPIError) as exc:
        client.query_refund("RF-NOPE")
    assert (exc.value.status, exc.value.code) == (404, "RESOURCE_NOT_EXISTS")


class _TamperingAdapter(HTTPAdapter):
    """Changes the answer's body after WeChat Pay signed it, as a man in the middle would."""

    def build_response(self, req, resp):
        response = super().build_response(req, resp)
        original = response.content
        response._content = original.replace(b"NOTPAY", b"SUCCESS")
        return response


def test_a_tampered_response_is_refused(sandbox, make_client):
    _prepay(make_client(sandbox.base_url), out_trade_no="MM-TAMPER-01")
    session = requests.Session()
    session.mount("http://", _TamperingAdapter())
    tampered = make_client(sandbox.base_url, session=session)
    try:
        with pytest.raises(BadSignatureError):
            tampered.query_by_out_trade_no("MM-TAMPER-01")
    finally:
        session.close()


def test_unanswered_call_raises_transport_error(make_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", timeout=(0.5, 0.5))
    with pytest.raises(WeChatPayTransportError):
        client.query_by_out_trade_no("MM20240501000001")
