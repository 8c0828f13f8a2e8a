"""The mini-program's order shipping upload (wxa/sec/order/upload_shipping_info): WeChat holds a payment's funds
until the merchant reports how the order was delivered (for micromall: logistics_type 4, picked up in store).

Malformed fields get 47001 "data format error" and a non-RFC 3339 upload_time 268485216, the codes WeChat sends.
The sandbox does not look the payment up (WeChat's 10060001 for an unknown one is not simulated).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint

from wechat_sandbox.weixin_common import OPENID_RE, WxError, ok, require_object, wechat_api

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
    return ok()
