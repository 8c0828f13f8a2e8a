"""api.mch.weixin.qq.com (WeChat Pay API v3) in the sandbox: JSAPI prepay, query, close, refunds.

Every request must carry the merchant's valid `Authorization` signature (else 401 SIGN_ERROR); every answer is
signed with the sandbox's WeChat Pay key (`Wechatpay-Serial: PUB_KEY_ID_…`). Errors are `{"code", "message"}`.
The sandbox's own control paths (`/sandbox/pay/...`) live in `pay_v3_control`, nested under this blueprint.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, g, request

from wechat_sandbox import pay_v3_control
from wechat_sandbox import pay_v3_crypto as crypto
from wechat_sandbox.pay_v3_common import (
    PayError,
    digits,
    order_refunded_fen,
    pay_area,
    refund_json,
    settings,
    state,
    transaction_json,
)

bp = Blueprint("pay_v3", __name__)
api = Blueprint("pay_v3_api", __name__)

OUT_TRADE_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
OUT_REFUND_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _json(status: int, data: Any = None) -> Response:
    body = b"" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status=status, mimetype="application/json" if data is not None else None)


def _request_uri() -> str:
    """The path and query exactly as the client sent them (what it signed), including any mount prefix."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        parts = urlsplit(raw)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    query = request.query_string.decode("latin-1")
    return quote(request.script_root + request.path) + (f"?{query}" if query else "")


@api.before_request
def _authenticate() -> Response | None:
    g.pay_body = None
    try:
        crypto.verify_request(
            settings(), request.method, _request_uri(), request.get_data(), request.headers.get("Authorization", "")
        )
    except crypto.SignError as exc:
        return _json(401, {"code": "SIGN_ERROR", "message": str(exc)})
    return None


@api.after_request
def _sign_and_record(response: Response) -> Response:
    body = response.get_data()
    response.headers.update(crypto.signed_headers(settings(), body))
    response.headers["Request-ID"] = crypto.nonce(32).upper()
    rule = request.url_rule.rule if request.url_rule else request.path
    state().record(rule.lstrip("/"), {
        "method": request.method,
        "uri": _request_uri(),
        "body": g.get("pay_body"),
        "status": response.status_code,
        "response": json.loads(body) if body else None,
    })
    return response


@api.errorhandler(PayError)
def _pay_error(exc: PayError) -> Response:
    return _json(exc.status, {"code": exc.code, "message": exc.message})


def _body() -> dict[str, Any]:
    try:
        data = json.loads(request.get_data() or b"null")
    except ValueError:
        raise PayError(400, "PARAM_ERROR", "请求体不是合法的JSON") from None
    if not isinstance(data, dict):
        raise PayError(400, "PARAM_ERROR", "请求体必须是JSON对象")
    g.pay_body = data
    return data


def _string(data: dict[str, Any], name: str, max_len: int, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise PayError(400, "PARAM_ERROR", f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败，此字段为必填项")
    if len(value) > max_len:
        raise PayError(400, "PARAM_ERROR", f"字段“{name}”长度超过{max_len}")
    return value


def _check_mchid(mchid: Any) -> None:
    if mchid != settings().mchid:
        raise PayError(400, "MCH_NOT_EXISTS", "商户号不存在")


def _check_notify_url(url: str) -> None:
    parts = urlsplit(url)
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback_http) or not parts.hostname:
        raise PayError(400, "PARAM_ERROR", "notify_url 必须为https地址")
    if parts.query:
        raise PayError(400, "PARAM_ERROR", "notify_url 不允许携带查询串")


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayError(400, "PARAM_ERROR", f"{name} 必须为大于0的整数")
    return value


def _currency(amount: dict[str, Any]) -> None:
    if amount.get("currency", "CNY") != "CNY":
        raise PayError(400, "PARAM_ERROR", "currency 仅支持 CNY")


def _jsapi_params(data: dict[str, Any]) -> dict[str, Any]:
    appid = _string(data, "appid", 32)
    _check_mchid(_string(data, "mchid", 32))
    known_apps = settings().apps
    if known_apps and appid not in known_apps:
        raise PayError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    description = _string(data, "description", 127)
    out_trade_no = _string(data, "out_trade_no", 32)
    if not OUT_TRADE_NO_RE.match(out_trade_no):
        raise PayError(400, "PARAM_ERROR", "out_trade_no 须为6-32位数字、字母或_-|*")
    notify_url = _string(data, "notify_url", 255)
    _check_notify_url(notify_url)
    amount = data.get("amount")
    if not isinstance(amount, dict):
        raise PayError(400, "PARAM_ERROR", "amount 必填")
    total = _positive_int(amount.get("total"), "amount.total")
    _currency(amount)
    payer = data.get("payer")
    if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"]:
        raise PayError(400, "PARAM_ERROR", "payer.openid 必填")
    time_expire = _string(data, "time_expire", 64, required=False)
    expires_at = None
    if time_expire is not None:
        try:
            if not TIME_RE.match(time_expire):
                raise ValueError(time_expire)
            expires_at = datetime.fromisoformat(time_expire).timestamp()
        except ValueError:
            raise PayError(400, "PARAM_ERROR", "time_expire 格式应为 yyyy-MM-DDTHH:mm:ss+TIMEZONE") from None
    return {
        "appid": appid, "mchid": settings().mchid, "description": description, "out_trade_no": out_trade_no,
        "notify_url": notify_url, "total": total, "openid": payer["openid"],
        "attach": _string(data, "attach", 128, required=False), "time_expire": time_expire,
        "expires_at": expires_at,
    }


@api.post("/v3/pay/transactions/jsapi")
def jsapi_prepay() -> Response:
    params = _jsapi_params(_body())
    st = state()
    with st.lock:
        orders = pay_area(st)["orders"]
        order = orders.get(params["out_trade_no"])
        if order is not None:
            if order["trade_state"] in ("SUCCESS", "REFUND"):
                raise PayError(400, "ORDERPAID", "该订单已支付")
            if order["trade_state"] == "CLOSED":
                raise PayError(400, "ORDER_CLOSED", "当前订单已关闭，请重新下单")
            if order["params"] != params:
                # What WeChat answers when an out_trade_no comes back with other parameters (amount, payer, …).
                raise PayError(400, "INVALID_REQUEST", "201 商户订单号重复")
            return _json(200, {"prepay_id": order["prepay_id"]})
        prepay_id = "wx" + datetime.now(crypto.CHINA_TZ).strftime("%Y%m%d%H%M%S") + crypto.nonce(20).lower()
        orders[params["out_trade_no"]] = {
            **{k: params[k] for k in ("appid", "mchid", "out_trade_no", "notify_url", "total", "openid", "attach",
                                      "description", "expires_at")},
            "params": params,
            "prepay_id": prepay_id,
            "trade_state": "NOTPAY",
            "transaction_id": None,
            "success_time": None,
            "payer_total": None,
            "bank_type": None,
            "created_at": time.time(),
        }
    return _json(200, {"prepay_id": prepay_id})


def _order(out_trade_no: str) -> dict[str, Any]:
    order = pay_area(state())["orders"].get(out_trade_no)
    if order is None:
        raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
    return order


@api.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
def query_by_out_trade_no(out_trade_no: str) -> Response:
    _check_mchid(request.args.get("mchid"))
    with state().lock:
        return _json(200, transaction_json(_order(out_trade_no)))


@api.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no: str) -> Response:
    _check_mchid(_body().get("mchid"))
    with state().lock:
        order = _order(out_trade_no)
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            raise PayError(400, "ORDERPAID", "订单已支付，不能关闭")
        order["trade_state"] = "CLOSED"
    return _json(204)


@api.post("/v3/refund/domestic/refunds")
def create_refund() -> Response:
    data = _body()
    out_refund_no = _string(data, "out_refund_no", 64)
    if not OUT_REFUND_NO_RE.match(out_refund_no):
        raise PayError(400, "PARAM_ERROR", "out_refund_no 格式错误")
    notify_url = _string(data, "notify_url", 256, required=False)
    if notify_url is not None:
        _check_notify_url(notify_url)
    _string(data, "reason", 80, required=False)
    amount = data.get("amount")
    if not isinstance(amount, dict):
        raise PayError(400, "PARAM_ERROR", "amount 必填")
    refund_fen = _positive_int(amount.get("refund"), "amount.refund")
    total_fen = _positive_int(amount.get("total"), "amount.total")
    _currency(amount)
    st = state()
    with st.lock:
        area = pay_area(st)
        order = _refund_order(area, data)
        existing = area["refunds"].get(out_refund_no)
        if existing is not None:
            # WeChat refunds an out_refund_no once: a repeat answers with the refund it already made.
            if existing["out_trade_no"] != order["out_trade_no"] or existing["amount"]["refund"] != refund_fen:
                raise PayError(400, "INVALID_REQUEST", "退款单号重复，且与原退款请求参数不一致")
            return _json(200, refund_json(existing))
        if order["trade_state"] not in ("SUCCESS", "REFUND"):
            raise PayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total_fen != order["total"]:
            raise PayError(400, "INVALID_REQUEST", "订单金额与原订单金额不一致")
        if order_refunded_fen(area, order["out_trade_no"]) + refund_fen > order["total"]:
            raise PayError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = {
            "refund_id": "503" + digits(26),
            "out_refund_no": out_refund_no,
            "out_trade_no": order["out_trade_no"],
            "transaction_id": order["transaction_id"],
            "notify_url": notify_url,
            "reason": data.get("reason"),
            "status": "PROCESSING",
            "create_time": crypto.china_now(),
            "success_time": None,
            "amount": {"refund": refund_fen, "total": order["total"], "payer_total": order["payer_total"]},
        }
        area["refunds"][out_refund_no] = refund
        order["trade_state"] = "REFUND"
        return _json(200, refund_json(refund))


def _refund_order(area: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    out_trade_no, transaction_id = data.get("out_trade_no"), data.get("transaction_id")
    if isinstance(out_trade_no, str) and out_trade_no:
        order = area["orders"].get(out_trade_no)
    elif isinstance(transaction_id, str) and transaction_id:
        order = next((o for o in area["orders"].values() if o["transaction_id"] == transaction_id), None)
    else:
        raise PayError(400, "PARAM_ERROR", "out_trade_no 与 transaction_id 必须二选一")
    if order is None:
        raise PayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
    return order


@api.get("/v3/refund/domestic/refunds/<out_refund_no>")
def query_refund(out_refund_no: str) -> Response:
    with state().lock:
        refund = pay_area(state())["refunds"].get(out_refund_no)
        if refund is None:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return _json(200, refund_json(refund))


bp.register_blueprint(api)
bp.register_blueprint(pay_v3_control.bp)
from wechat_sandbox import pay_v3_transfers  # noqa: E402 (merchant transfers, issue 17)

bp.register_blueprint(pay_v3_transfers.api)
bp.register_blueprint(pay_v3_transfers.control)
