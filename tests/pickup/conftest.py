"""Pickup fixtures: a shop, paid orders, staff seats bound through the real API, and the sandbox's records."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import requests
from flask import current_app, has_app_context
from rq import SimpleWorker

from app import jobs
from app.extensions import db
from app.models import Order, utcnow
from app.payments.gateway import Transaction
from app.payments.service import apply_paid_transaction, check_transaction
from app.pickup.codes import code_for_order
from app.staff.service import create_invite, create_seat
from tests import factories
from wechat_sandbox.pay_v3_common import pay_area

_counter = itertools.count(1)
SHIPPING = "wxa/sec/order/upload_shipping_info"


@dataclass
class Shop:
    store_id: int
    sku_id: int


@dataclass
class PaidOrder:
    order_no: str
    order_id: int
    headers: dict[str, str]  # the customer's
    code: str


@dataclass
class Staff:
    seat_id: int
    headers: dict[str, str]


@pytest.fixture
def shop(app_ctx) -> Shop:
    store_id = factories.store()
    return Shop(store_id, factories.product("拿铁", specs=(("中杯", 2800),), stock={store_id: 100}).sku_ids[0])


def record_payment_at_wechat(sandbox, order: Order, openid: str, paid_ago_s: float = 120) -> None:
    """The sandbox's WeChat Pay holds the payment too, paid a while ago: WeChat's shipping service (which the
    pickup report talks to) knows only payments it has seen, and only a while after they were paid."""
    st = sandbox.server.app.extensions["sandbox_state"]
    paid_at = datetime.fromtimestamp(time.time() - paid_ago_s, timezone(timedelta(hours=8)))
    with st.lock:
        pay_area(st)["orders"][order.order_no] = {
            "appid": current_app.config["MINIPROGRAM_APPID"], "mchid": current_app.config["WECHATPAY_MCHID"], "out_trade_no": order.order_no,
            "description": "test", "total": order.total_fen, "payer_total": order.total_fen, "openid": openid,
            "trade_state": "SUCCESS", "transaction_id": f"4200{order.order_no}",
            "success_time": paid_at.isoformat(timespec="seconds"), "created_at": time.time() - paid_ago_s - 10}


@pytest.fixture
def paid_order(app, client, sandbox):
    """make(shop, openid="alice", quantity=1) -> PaidOrder: placed through the API, then paid by the very function a
    verified WeChat Pay notification calls (tests/checkout covers the notification itself over HTTP)."""

    def make(shop: Shop, openid: str = "alice", quantity: int = 1) -> PaidOrder:
        headers = factories.login(client, openid)
        response = client.post("/api/v1/orders", headers=headers,
                               json={"store_id": shop.store_id,
                                     "items": [{"sku_id": shop.sku_id, "quantity": quantity}]})
        assert response.status_code == 201, response.get_json()
        with app.app_context():
            order = db.session.query(Order).filter_by(order_no=response.get_json()["order_no"]).one()
            transaction = Transaction(out_trade_no=order.order_no, trade_state="SUCCESS",
                                      transaction_id=f"4200{order.order_no}", total_fen=order.total_fen,
                                      payer_openid=openid, appid=app.config["MINIPROGRAM_APPID"],
                                      mchid=app.config["WECHATPAY_MCHID"], success_time=utcnow())
            assert check_transaction(transaction, order) is None
            assert apply_paid_transaction(order, transaction, "test") == "applied"
            db.session.commit()
            record_payment_at_wechat(sandbox, order, openid)
            paid = PaidOrder(order.order_no, order.id, headers, code_for_order(order.id).code)
        _fresh_snapshot()
        return paid

    return make


@pytest.fixture
def staff_member(app, client):
    """make(store_id, role="clerk", name="") -> Staff: a seat with an invite, bound and logged in through the API."""

    def make(store_id: int, role: str = "clerk", name: str = "") -> Staff:
        with app.app_context():
            seat = create_seat(store_id, role, name or f"{role}{next(_counter)}")
            invite_code, _ = create_invite(seat, "test")
            db.session.commit()
            seat_id = seat.id
        _fresh_snapshot()
        response = client.post("/api/v1/staff/auth/bind", json={
            "code": f"sandbox-staff{seat_id}.{next(_counter)}", "invite_code": invite_code})
        assert response.status_code == 200, response.get_json()
        return Staff(seat_id, {"Authorization": f"Bearer {response.get_json()['token']}"})

    return make


def _fresh_snapshot() -> None:
    """A test's own app context (which the test client's requests share) may hold a MariaDB snapshot from before
    the rows just committed in the inner context; end it so the next request sees them."""
    if has_app_context():
        db.session.commit()


def run_jobs(app) -> None:
    """With Redis the jobs sit in RQ until a worker runs them; without it they already ran after the commit."""
    if app.extensions["micromall_redis"] is not None:
        with app.app_context():
            SimpleWorker([jobs.queue(app)], connection=app.extensions["micromall_redis"]).work(burst=True)
    _fresh_snapshot()


def sandbox_records(sandbox, kind: str) -> list[dict]:
    response = requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": kind}, timeout=5)
    response.raise_for_status()
    return response.json()["items"]


def inject_failure(sandbox, path: str, errcode: int, times: int = 1) -> None:
    requests.post(f"{sandbox.base_url}/sandbox/failures", json={"path": path, "errcode": errcode, "times": times},
                  timeout=5).raise_for_status()
