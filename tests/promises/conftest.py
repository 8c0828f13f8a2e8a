"""Fixtures for promises, ratings, coupons and alliances: a shop, coupons issued through the domain, orders placed
through the API and paid by the function a verified notification calls."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.coupons.issuing import define, issue
from app.extensions import db
from app.models import Customer, Order, utcnow
from app.payments.gateway import Transaction
from app.payments.service import apply_paid_transaction, check_transaction
from tests import factories
from tests.pickup.conftest import staff_member  # noqa: F401 (a fixture shared with the pickup tests)


@dataclass
class Shop:
    store_id: int
    sku_id: int  # 2800 fen


@pytest.fixture
def shop(app_ctx) -> Shop:
    store_id = factories.store()
    return Shop(store_id, factories.product("拿铁", specs=(("中杯", 2800),), stock={store_id: 100}).sku_ids[0])


def fresh() -> None:
    """End the test's snapshot (MariaDB REPEATABLE READ) so the next read sees what requests committed."""
    db.session.rollback()


def customer_id(openid: str) -> int:
    fresh()
    return db.session.scalar(select(Customer.id).where(Customer.openid == openid))


def give_coupon(openid: str, store_ids: list[int], amount_fen: int = 500, min_spend_fen: int = 0,
                valid_days: int = 7, kind: str = "merchant") -> int:
    holder = customer_id(openid)
    definition = define(kind, "测试券", amount_fen, valid_days, store_ids, min_spend_fen=min_spend_fen,
                        per_customer_limit=None)
    coupon = issue(definition, holder)
    db.session.commit()
    return coupon.id


def place(client, headers, shop: Shop, quantity: int = 2, **extra):
    return client.post("/api/v1/orders", headers=headers, json={
        "store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": quantity}], **extra})


def order_by_no(order_no: str) -> Order:
    fresh()
    return db.session.scalar(select(Order).where(Order.order_no == order_no))


def pay(app, order_no: str, openid: str = "alice") -> Order:
    """Paid by the very function a verified WeChat Pay notification calls, for the payable amount."""
    order = order_by_no(order_no)
    transaction = Transaction(out_trade_no=order.order_no, trade_state="SUCCESS",
                              transaction_id=f"4200{order.order_no}", total_fen=order.payable_fen,
                              payer_openid=openid, appid=app.config["MINIPROGRAM_APPID"],
                              mchid=app.config["WECHATPAY_MCHID"], success_time=utcnow())
    assert check_transaction(transaction, order) is None
    assert apply_paid_transaction(order, transaction, "test") == "applied"
    db.session.commit()
    return order_by_no(order_no)
