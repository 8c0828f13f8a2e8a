"""What each scenario sends, built before its load starts: orders placed and prepaid through the API, WeChat Pay
notifications signed and encrypted with the sandbox's key, official-account messages signed and encrypted in safe
mode with distinct MsgIds, and redeem requests for paid orders' pickup codes."""
from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import requests

from bench.wrk import Request

JSON = {"Content-Type": "application/json"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def healthz() -> list[Request]:
    return [("GET", "/healthz", {}, None)]


def product_list(store_id: int) -> list[Request]:
    return [("GET", f"/api/v1/stores/{store_id}/products?per_page=20", {}, None)]


def hot_sku_orders(store_id: int, sku_id: int, tokens: list[str], count: int,
                   coupons: dict[str, int] | None = None) -> list[Request]:
    """`count` order attempts for one unit of the hot SKU, buyers in turn (each request a different buyer); a buyer
    holding a coupon in `coupons` (token -> coupon id) uses it, so the rush also locks coupons."""
    def body(token: str) -> bytes:
        order = {"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]}
        if coupons and token in coupons:
            order["coupon_id"] = coupons[token]
        return json.dumps(order).encode()

    return [("POST", "/api/v1/orders", {**JSON, **_auth(tokens[i % len(tokens)])}, body(tokens[i % len(tokens)]))
            for i in range(count)]


def ample_orders(store_id: int, skus: list[int], tokens: list[str], per_customer: int) -> list[Request]:
    """S2a: every customer places `per_customer` orders of 1-3 SKUs with ample stock, customers in turn (each
    request a different customer, so no one reaches the per-minute or unpaid-order caps: both at most 3 here). Each
    order carries its own Idempotency-Key, as the mini-program sends it: the few requests wrk sends again while its
    other thread finishes (bench/wrk.py) are answered with the first result, not placed twice."""
    reqs: list[Request] = []
    for round_no in range(per_customer):
        for i, token in enumerate(tokens):
            n = 1 + (i + round_no) % 3
            items = [{"sku_id": skus[(i + round_no + k) % len(skus)], "quantity": 1 + k} for k in range(n)]
            headers = {**JSON, **_auth(token), "Idempotency-Key": f"bench-s2a-{round_no}-{i}"}
            reqs.append(("POST", "/api/v1/orders", headers, json.dumps({"store_id": store_id, "items": items}).encode()))
    return reqs


def place_orders(base_url: str, store_id: int, skus: list[int], tokens: list[str], pay: bool) -> list[dict]:
    """One order per token through the API (POST /orders, then /pay, which prepays at the sandbox), 8 at a time.
    Returns [{order_no, total_fen, token}]."""

    def one(i_token: tuple[int, str]) -> dict:
        i, token = i_token
        with requests.Session() as http:
            made = http.post(f"{base_url}/api/v1/orders", headers={**JSON, **_auth(token)}, timeout=30,
                             json={"store_id": store_id, "items": [{"sku_id": skus[i % len(skus)], "quantity": 1}]})
            made.raise_for_status()
            order = made.json()
            if pay:
                http.post(f"{base_url}/api/v1/orders/{order['order_no']}/pay", headers=_auth(token),
                          timeout=30).raise_for_status()
            # What WeChat Pay is asked for and what its notification carries: the payable amount (issue 18).
            return {"order_no": order["order_no"], "total_fen": order["payable_fen"], "token": token}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, enumerate(tokens)))


def pay_at_sandbox(sandbox_url: str, order_nos: list[str]) -> None:
    """WeChat says paid: the sandbox sends its real signed, encrypted notification to the app's notify URL."""

    def one(order_no: str) -> None:
        requests.post(f"{sandbox_url}/sandbox/pay/transactions/{order_no}/pay", json={"notify": True},
                      timeout=30).raise_for_status()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, order_nos))


def payment_notifications(config, orders: list[dict], openids: dict[str, str], copies: int = 10) -> list[Request]:
    """`copies` deliveries per order, adjacent in the list so they arrive together. Copies share the order's one
    transaction; they come as 5 notification ids delivered twice each, so both defences are exercised: the
    notification-id record (a redelivery) and the order's guarded transition (a second notification)."""
    from payments.wechatpay_v3 import encrypt_resource, load_private_key, rsa_sign

    key = load_private_key(config["SANDBOX_WECHATPAY_PRIVATE_KEY_PATH"])
    timestamp = str(int(time.time()))  # the app refuses > 300 s of skew: built right before the load
    out: list[Request] = []
    for order in orders:
        resource = {"appid": config["MINIPROGRAM_APPID"], "mchid": config["WECHATPAY_MCHID"],
                    "out_trade_no": order["order_no"], "transaction_id": "42000" + secrets.token_hex(8),
                    "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
                    "bank_type": "OTHERS", "success_time": "2026-11-23T20:00:00+08:00",
                    "payer": {"openid": openids[order["order_no"]]},
                    "amount": {"total": order["total_fen"], "payer_total": order["total_fen"], "currency": "CNY",
                               "payer_currency": "CNY"}}
        for copy in range(copies):
            body = json.dumps({"id": f"bench-{order['order_no']}-{copy // 2}", "create_time": "2026-11-23T20:00:01+08:00",
                               "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS",
                               "summary": "支付成功",
                               "resource": encrypt_resource(resource, config["WECHATPAY_APIV3_KEY"],
                                                            original_type="transaction")}).encode()
            nonce = secrets.token_hex(16)
            signature = rsa_sign(key, f"{timestamp}\n{nonce}\n".encode() + body + b"\n")
            out.append(("POST", "/payments/wechatpay/notify",
                        {**JSON, "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                         "Wechatpay-Serial": config["WECHATPAY_PUBLIC_KEY_ID"], "Wechatpay-Signature": signature},
                        body))
    return out


def official_account_messages(config, count: int, followers: int = 400) -> list[Request]:
    """Safe-mode messages as WeChat sends them: text 门店 and locations by turns, each with its own MsgId (a repeated
    one is a retry and deduplicated), signed, encrypted, timestamps fresh."""
    from wechat_sandbox.follower import FollowerSimulator, _xml, sign

    token, appid = config["OFFICIAL_ACCOUNT_TOKEN"], config["OFFICIAL_ACCOUNT_APPID"]
    sim = FollowerSimulator("http://unused", token, appid, config["OFFICIAL_ACCOUNT_AES_KEY"])
    now, out = int(time.time()), []
    for i in range(count):
        openid = f"bench-fan-{i % followers}"
        head = [("ToUserName", "gh_sandbox000001"), ("FromUserName", openid), ("CreateTime", now)]
        if i % 2:
            fields = head + [("MsgType", "text"), ("Content", "门店"), ("MsgId", secrets.randbits(63))]
        else:
            fields = head + [("MsgType", "location"), ("Location_X", 31.2304), ("Location_Y", 121.4737),
                             ("Scale", 15), ("Label", "人民广场"), ("MsgId", secrets.randbits(63))]
        ciphertext = sim.encrypt(_xml(fields))
        nonce = str(secrets.randbelow(10**10))
        query = urlencode({"signature": sign(token, str(now), nonce), "timestamp": now, "nonce": nonce,
                           "openid": openid, "encrypt_type": "aes",
                           "msg_signature": sign(token, str(now), nonce, ciphertext)})
        body = _xml([("ToUserName", "gh_sandbox000001"), ("Encrypt", ciphertext)]).encode()
        out.append(("POST", f"/wechat/official-account?{query}", {"Content-Type": "text/xml"}, body))
    return out


def redeems(codes: list[str], staff_token: str, per_code: int = 20) -> list[Request]:
    """`per_code` redeems of each code, adjacent, so with -c per_code they are all in flight together."""
    return [("POST", "/api/v1/staff/pickups/redeem", {**JSON, **_auth(staff_token)},
             json.dumps({"code": code}).encode()) for code in codes for _ in range(per_code)]
