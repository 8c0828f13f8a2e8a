"""Checkout fixtures: the app served over real HTTP (so the sandbox can notify it), a placed order, WeChat Pay
notifications crafted with the sandbox's own key for the cases the sandbox does not produce by itself."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from rq import SimpleWorker

from app import jobs
from app.extensions import db
from app.models import Order
from payments.wechatpay_v3 import encrypt_resource, load_private_key, rsa_sign
from tests import factories
from wechat_sandbox.server import serve_in_thread


@pytest.fixture
def live(app):
    """The app on a loopback port; PUBLIC_BASE_URL (and so the notify URLs) point at it."""
    server = serve_in_thread(app)
    app.config["PUBLIC_BASE_URL"] = server.base_url
    yield server
    server.stop()


@dataclass
class PlacedOrder:
    order_no: str
    headers: dict[str, str]
    store_id: int
    sku_id: int
    total_fen: int


@pytest.fixture
def placed(app_ctx, client, live) -> PlacedOrder:
    store_id = factories.store()
    made = factories.product(specs=(("中杯", 2800),), stock={store_id: 10})
    headers = factories.login(client)
    body = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 2}]}).get_json()
    return PlacedOrder(body["order_no"], headers, store_id, made.sku_ids[0], body["total_fen"])


def order(order_no: str) -> Order:
    db.session.rollback()  # a fresh snapshot: MariaDB's REPEATABLE READ would keep showing the old row
    return db.session.query(Order).filter_by(order_no=order_no).one()


def drain_jobs(app) -> None:
    """Run what the commits enqueued: RQ with Redis (a real worker, burst); in-process runs them already."""
    if app.extensions["micromall_redis"] is not None:
        SimpleWorker([jobs.queue(app)], connection=app.extensions["micromall_redis"]).work(burst=True)


def sandbox_post(sandbox, path: str, body: dict | None = None) -> dict:
    response = requests.post(f"{sandbox.base_url}{path}", json=body or {}, timeout=10)
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def notify_attempts(sandbox, notification_id: str) -> list[dict]:
    records = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": "notify"}, timeout=5).json()
    return [r["payload"] for r in records["items"] if r["payload"].get("id") == notification_id]


def pay_at_sandbox(client, sandbox, placed: PlacedOrder, **options) -> dict:
    """The customer taps pay (prepay through our API) and WeChat reports success."""
    assert client.post(f"/api/v1/orders/{placed.order_no}/pay", headers=placed.headers).status_code == 200
    return sandbox_post(sandbox, f"/sandbox/pay/transactions/{placed.order_no}/pay", {"notify": True, **options})


class Notifier:
    """Sends v3 notifications as WeChat Pay would, signed with the sandbox's WeChat Pay key, with knobs to break
    one thing at a time."""

    def __init__(self, app, base_url: str) -> None:
        self.app, self.base_url = app, base_url
        self.key = load_private_key(app.config["SANDBOX_WECHATPAY_PRIVATE_KEY_PATH"])

    def resource(self, out_trade_no: str, total_fen: int, **changes) -> dict:
        data = {"appid": self.app.config["MINIPROGRAM_APPID"], "mchid": self.app.config["WECHATPAY_MCHID"],
                "out_trade_no": out_trade_no, "transaction_id": "42000" + secrets.token_hex(8),
                "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
                "bank_type": "OTHERS", "success_time": "2026-11-23T20:00:00+08:00",
                "payer": {"openid": "alice"}, "amount": {"total": total_fen, "payer_total": total_fen,
                                                         "currency": "CNY", "payer_currency": "CNY"}}
        data.update(changes)
        return data

    def body(self, resource: dict, event_type: str = "TRANSACTION.SUCCESS") -> bytes:
        envelope = {"id": secrets.token_hex(16), "create_time": "2026-11-23T20:00:01+08:00",
                    "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
                    "resource": encrypt_resource(resource, self.app.config["WECHATPAY_APIV3_KEY"],
                                                 original_type="transaction")}
        return json.dumps(envelope).encode()

    def post(self, body: bytes, *, path: str = "/payments/wechatpay/notify", age_s: int = 0, serial: str | None = None,
             signature: str | None = None) -> requests.Response:
        timestamp, nonce = str(int(time.time()) - age_s), secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        headers = {"Content-Type": "application/json", "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                   "Wechatpay-Serial": serial or self.app.config["WECHATPAY_PUBLIC_KEY_ID"],
                   "Wechatpay-Signature": signature or rsa_sign(self.key, message)}
        return requests.post(f"{self.base_url}{path}", data=body, headers=headers, timeout=10)


@pytest.fixture
def notifier(app, live) -> Notifier:
    return Notifier(app, live.base_url)


def merchant_public_key_pem(app) -> bytes:
    return Path(app.config["SANDBOX_MERCHANT_PUBLIC_KEY_PATH"]).read_bytes()
