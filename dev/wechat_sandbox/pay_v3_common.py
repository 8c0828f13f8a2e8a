"""What the pay v3 modules of the sandbox share: where orders and refunds live, and how WeChat Pay shows them."""
from __future__ import annotations

import secrets
import time
from typing import Any

from flask import current_app

from wechat_sandbox.settings import SandboxSettings
from wechat_sandbox.state import SandboxState

TRADE_STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "REFUND": "转入退款",
}
# Refunds that hold money: CLOSED ones gave it back to the refundable balance.
ACTIVE_REFUND_STATUSES = ("PROCESSING", "SUCCESS", "ABNORMAL")


class PayError(Exception):
    """A v3 error answer: HTTP status plus WeChat Pay's `{"code", "message"}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def settings() -> SandboxSettings:
    return current_app.config["SANDBOX_SETTINGS"]


def state() -> SandboxState:
    return current_app.extensions["sandbox_state"]


def pay_area(st: SandboxState) -> dict[str, Any]:
    """The pay area, created on first use and after every reset (callers hold `st.lock` while they change it)."""
    with st.lock:
        area = st.area("pay")
        area.setdefault("orders", {})  # out_trade_no -> order
        area.setdefault("refunds", {})  # out_refund_no -> refund
        area.setdefault("notifications", {})  # notification id -> notification
        area.setdefault("last_notification", {})  # ("transaction", out_trade_no) / ("refund", no) -> id
        area.setdefault("lose_notifications", False)
        return area


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def order_refunded_fen(area: dict[str, Any], out_trade_no: str) -> int:
    return sum(
        r["amount"]["refund"]
        for r in area["refunds"].values()
        if r["out_trade_no"] == out_trade_no and r["status"] in ACTIVE_REFUND_STATUSES
    )


def is_expired(order: dict[str, Any]) -> bool:
    return order["expires_at"] is not None and time.time() > order["expires_at"]


def transaction_json(order: dict[str, Any]) -> dict[str, Any]:
    """The transaction as the query API and the TRANSACTION.SUCCESS resource show it."""
    data: dict[str, Any] = {
        "appid": order["appid"],
        "mchid": order["mchid"],
        "out_trade_no": order["out_trade_no"],
        "trade_state": order["trade_state"],
        "trade_state_desc": TRADE_STATE_DESC[order["trade_state"]],
        "attach": order["attach"] or "",
        "amount": {"total": order["total"], "currency": "CNY", "payer_currency": "CNY"},
        "payer": {"openid": order["openid"]},
    }
    if order["transaction_id"]:
        data.update(
            transaction_id=order["transaction_id"],
            trade_type="JSAPI",
            bank_type=order["bank_type"],
            success_time=order["success_time"],
            promotion_detail=[],
        )
        data["amount"]["payer_total"] = order["payer_total"]
    return data


def refund_json(refund: dict[str, Any]) -> dict[str, Any]:
    """The refund as the refund APIs answer it."""
    amount = refund["amount"]
    data: dict[str, Any] = {
        "refund_id": refund["refund_id"],
        "out_refund_no": refund["out_refund_no"],
        "transaction_id": refund["transaction_id"],
        "out_trade_no": refund["out_trade_no"],
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": refund["create_time"],
        "status": refund["status"],
        "funds_account": "AVAILABLE",
        "amount": {
            "total": amount["total"],
            "refund": amount["refund"],
            "from": [],
            "payer_total": amount["payer_total"],
            "payer_refund": amount["refund"],
            "settlement_total": amount["total"],
            "settlement_refund": amount["refund"],
            "discount_refund": 0,
            "currency": "CNY",
            "refund_fee": 0,
        },
        "promotion_detail": [],
    }
    if refund["success_time"]:
        data["success_time"] = refund["success_time"]
    return data


def refund_notice_json(refund: dict[str, Any], mchid: str) -> dict[str, Any]:
    """The decrypted resource of a REFUND.* notification (a smaller shape than the refund API's)."""
    amount = refund["amount"]
    data: dict[str, Any] = {
        "mchid": mchid,
        "out_trade_no": refund["out_trade_no"],
        "transaction_id": refund["transaction_id"],
        "out_refund_no": refund["out_refund_no"],
        "refund_id": refund["refund_id"],
        "refund_status": refund["status"],
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": amount["total"],
            "refund": amount["refund"],
            "payer_total": amount["payer_total"],
            "payer_refund": amount["refund"],
        },
    }
    if refund["success_time"]:
        data["success_time"] = refund["success_time"]
    return data
