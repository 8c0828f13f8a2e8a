"""Prepay through the sandbox over real HTTP; the wx.requestPayment fields verify with the merchant key."""
import base64
from datetime import timedelta

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from app.extensions import db
from app.models import Payment, utcnow
from tests import factories
from tests.checkout.conftest import merchant_public_key_pem, order, pay_at_sandbox
from tests.race import wait_for


def test_prepay_returns_signed_request_payment_fields_and_is_reused(client, sandbox, placed, app):
    response = client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    assert response.status_code == 200, response.get_json()
    fields = response.get_json()
    assert set(fields) >= {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert fields["signType"] == "RSA" and fields["package"].startswith("prepay_id=")
    message = f"{app.config['MINIPROGRAM_APPID']}\n{fields['timeStamp']}\n{fields['nonceStr']}\n{fields['package']}\n"
    public_key = serialization.load_pem_public_key(merchant_public_key_pem(app))
    public_key.verify(base64.b64decode(fields["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    # what WeChat was asked: amount and payer from the server, expiry = the order's
    calls = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "v3/pay/transactions/jsapi"},
                         timeout=5).json()["items"]
    assert len(calls) == 1
    sent = calls[0]["payload"]["body"]
    assert sent["amount"]["total"] == placed.total_fen and sent["payer"]["openid"] == "alice"
    assert sent["out_trade_no"] == placed.order_no
    assert sent["notify_url"].endswith("/payments/wechatpay/notify")
    # a second tap while the prepay is valid reuses it
    again = client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers).get_json()
    assert again["package"] == fields["package"]
    assert len(requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "v3/pay/transactions/jsapi"},
                            timeout=5).json()["items"]) == 1


def test_paid_cancelled_and_expired_orders_cannot_be_paid(client, sandbox, placed, app_ctx):
    pay_at_sandbox(client, sandbox, placed)
    wait_for(lambda: order(placed.order_no).status == "paid", what="the payment notification")
    paid = client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers)
    assert paid.status_code == 409 and paid.get_json()["error"]["code"] == "order_not_payable"

    body = client.post("/api/v1/orders", headers=placed.headers, json={
        "store_id": placed.store_id, "items": [{"sku_id": placed.sku_id, "quantity": 1}]}).get_json()
    client.post(f"/api/v1/orders/{body['order_no']}/cancel", headers=placed.headers)
    cancelled = client.post(f"/api/v1/orders/{body['order_no']}/pay", headers=placed.headers)
    assert cancelled.status_code == 409 and cancelled.get_json()["error"]["code"] == "order_not_payable"

    body = client.post("/api/v1/orders", headers=placed.headers, json={
        "store_id": placed.store_id, "items": [{"sku_id": placed.sku_id, "quantity": 1}]}).get_json()
    o = order(body["order_no"])
    o.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.post(f"/api/v1/orders/{body['order_no']}/pay", headers=placed.headers)
    assert expired.status_code == 409 and expired.get_json()["error"]["code"] == "order_expired"


def test_someone_elses_order_cannot_be_paid(client, placed):
    bob = factories.login(client, "bob")
    assert client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=bob).status_code == 404


def test_the_payment_row_holds_no_client_input(client, sandbox, placed, app_ctx):
    client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers, json={"total_fen": 1})
    payment = db.session.query(Payment).one()
    assert payment.amount_fen == placed.total_fen and payment.out_trade_no == placed.order_no
