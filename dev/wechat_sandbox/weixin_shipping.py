"""The mini-program's order shipping upload (wxa/sec/order/upload_shipping_info): WeChat holds a payment's funds
until the merchant reports how the order was delivered (for micromall: logistics_type 4, picked up in store).

Malformed fields get 47001 "data format error" and a non-RFC 3339 upload_time 268485216, the codes WeChat sends.
The payment is looked up in the sandbox's WeChat Pay state, and WeChat's 1006xxxx codes answer the cases they
describe (errmsg texts as WeChat sends them):
- 10060001 支付单不存在: unknown payment, or paid less than `shipping_ready_after_s` ago (WeChat's shipping service
  learns of payments after a delay: "支付后订单需要入库，如果查不到可以等待1分钟后再试");
- 10060004 支付单处于不可发货的状态: the payment was refunded;
- 10060031 该笔支付单不属于 openid 所指定的用户: payer.openid is not the payer;
- 10060003 支付单已使用重新发货机会: a third upload (the second one is the single re-upload WeChat allows).
`wxa/sec/order/get_order` answers the payment's shipping state (order_state 1 waiting, 2 shipped, 5 refunded).
"""
from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from flask import Blueprint

from wechat_sandbox.pay_v3_common import pay_area
from wechat_sandbox.weixin_common import OPENID_RE, WxError, ok, require_object, state, wechat_api, weixin

bp = Blueprint("weixin_shipping", __name__)

DELIVERY_MODES = {1: 1, 2: 2, "UNIFIED_DELIVERY": 1, "SPLIT_DELIVERY": 2}
EXPRESS = 1  # logistics_type 1: a courier, which needs tracking_no and express_company
RFC3339_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def _text(value: Any, max_len: int) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= max_len


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_order_key(order_key: Any) -> None:
    if not isinstance(order_key, dict):
        raise WxError(47001, "order_key missing")
    kind = order_key.get("order_number_type")
    if kind == 1:
        if not _text(order_key.get("mchid"), 32) or not _text(order_key.get("out_trade_no"), 32):
            raise WxError(47001, "order_key needs mchid and out_trade_no")
    elif kind == 2:
        if not _text(order_key.get("transaction_id"), 32):
            raise WxError(47001, "order_key needs transaction_id")
    else:
        raise WxError(47001, "order_key.order_number_type invalid")


def _check_shipping_list(shipping_list: Any, logistics_type: int, mode: int) -> None:
    if not isinstance(shipping_list, list) or not 1 <= len(shipping_list) <= 15:
        raise WxError(47001, "shipping_list must be an array of 1 to 15")
    if mode == 1 and len(shipping_list) != 1:
        raise WxError(47001, "unified delivery takes exactly one shipping entry")
    for item in shipping_list:
        if not isinstance(item, dict) or not _text(item.get("item_desc"), 120):
            raise WxError(47001, "shipping_list[].item_desc invalid")
        if logistics_type == EXPRESS:
            if not _text(item.get("tracking_no"), 128) or not _text(item.get("express_company"), 128):
                raise WxError(47001, "express delivery needs tracking_no and express_company")
            contact = item.get("contact")
            # SF Express requires a (masked) phone number of the sender or the receiver.
            if item["express_company"] == "SF" and not (
                    isinstance(contact, dict) and (contact.get("receiver_contact") or contact.get("consignor_contact"))):
                raise WxError(47001, "SF needs contact")


def _check_upload_time(value: Any) -> None:
    match = RFC3339_RE.match(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise WxError(268485216) from None


@wechat_api(bp, "/wxa/sec/order/upload_shipping_info", audience="miniprogram")
def upload_shipping_info(payload: Any, _appid: str) -> dict:
    body = require_object(payload)
    _check_order_key(body.get("order_key"))
    logistics_type = body.get("logistics_type")
    if not _is_int(logistics_type) or not 1 <= logistics_type <= 4:
        raise WxError(47001, "logistics_type invalid")
    mode_value = body.get("delivery_mode")
    hashable = isinstance(mode_value, (int, str)) and not isinstance(mode_value, bool)
    mode = DELIVERY_MODES.get(mode_value) if hashable else None
    if mode is None:
        raise WxError(47001, "delivery_mode invalid")
    if mode == 2 and not isinstance(body.get("is_all_delivered"), bool):
        raise WxError(47001, "split delivery needs is_all_delivered")
    _check_shipping_list(body.get("shipping_list"), logistics_type, mode)
    _check_upload_time(body.get("upload_time"))
    payer = body.get("payer")
    if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not OPENID_RE.match(payer["openid"]):
        raise WxError(47001, "payer.openid invalid")
    key = body["order_key"]
    with state().lock:
        payment = _payment(transaction_id=key.get("transaction_id"), mchid=key.get("mchid"),
                           out_trade_no=key.get("out_trade_no"))
        if payment["openid"] != payer["openid"]:
            raise WxError(10060031)
        if payment["trade_state"] == "REFUND":
            raise WxError(10060004)
        shipment = weixin()["shipments"].setdefault(payment["out_trade_no"], {"uploads": 0})
        if shipment["uploads"] >= 2:
            raise WxError(10060003)
        shipment.update(uploads=shipment["uploads"] + 1, logistics_type=logistics_type, delivery_mode=mode,
                        item_desc=body["shipping_list"][0]["item_desc"], upload_time=int(time.time()))
    return ok()


def _paid_epoch(payment: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(payment["success_time"]).timestamp() if payment["success_time"] else None
    except (TypeError, ValueError):
        return None


def _payment(transaction_id: str | None, mchid: str | None, out_trade_no: str | None) -> dict[str, Any]:
    """The paid payment the key names; 10060001 when WeChat's shipping service does not know it (yet)."""
    orders = pay_area(state())["orders"]
    if transaction_id:
        payment = next((o for o in orders.values() if o["transaction_id"] == transaction_id), None)
    else:
        payment = orders.get(out_trade_no or "")
        if payment is not None and payment["mchid"] != mchid:
            payment = None
    paid_at = _paid_epoch(payment) if payment is not None else None
    if payment is None or paid_at is None or time.time() - paid_at < weixin()["shipping_ready_after_s"]:
        raise WxError(10060001)
    return payment


@wechat_api(bp, "/wxa/sec/order/get_order", audience="miniprogram")
def get_order(payload: Any, _appid: str) -> dict:
    body = require_object(payload)
    transaction_id = body.get("transaction_id")
    if not transaction_id and not (body.get("merchant_id") and body.get("merchant_trade_no")):
        raise WxError(47001, "transaction_id or merchant_id and merchant_trade_no required")
    with state().lock:
        payment = _payment(transaction_id=transaction_id, mchid=body.get("merchant_id"),
                           out_trade_no=body.get("merchant_trade_no"))
        shipment = weixin()["shipments"].get(payment["out_trade_no"])
        order_state = 5 if payment["trade_state"] == "REFUND" else 2 if shipment else 1
        order: dict[str, Any] = {
            "transaction_id": payment["transaction_id"], "merchant_id": payment["mchid"], "sub_merchant_id": "0",
            "merchant_trade_no": payment["out_trade_no"], "description": payment["description"],
            "paid_amount": payment["payer_total"] or payment["total"], "openid": payment["openid"],
            "trade_create_time": int(payment["created_at"]), "pay_time": int(_paid_epoch(payment) or 0),
            "order_state": order_state, "in_complaint": False,
        }
        if shipment:
            order["shipping"] = {
                "delivery_mode": shipment["delivery_mode"], "logistics_type": shipment["logistics_type"],
                "finish_shipping": True, "finish_shipping_count": shipment["uploads"] - 1,
                "upload_scene": 1, "shipping_list": [{"tracking_no": "", "express_company": "",
                                                     "goods_desc": shipment["item_desc"],
                                                     "upload_time": shipment["upload_time"]}],
            }
    return ok(order=order)
