"""api.mch.weixin.qq.com merchant transfers (商家转账, the user-confirm version) in the sandbox.

- `POST /v3/fund-app/mch-transfer/transfer-bills` makes a bill in WAIT_USER_CONFIRM with a `package_info` for
  `wx.requestMerchantTransfer`; the same out_bill_no again answers the same bill (a different request for it is
  refused).
- `GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}` queries it (404 NOT_FOUND).
- `/sandbox/pay/transfer-bills/<out_bill_no>/confirm` plays the receiver (and WeChat): {"state": "SUCCESS" (the
  receiver confirmed) | "FAIL" | "CANCELLED", "fail_reason"?, "notify": true}; the final state is notified as
  `MCHTRANSFER.BILL.FINISHED`, signed and encrypted like every v3 notification.

Checks (transfer-bills request fields): out_bill_no letters and digits only; transfer_remark at most 32
characters; a known appid; a positive integer amount in fen; scene 1005 (佣金报酬) must report 岗位类型 and 报酬说明
in transfer_scene_report_infos; user_name, when sent, must be encrypted (never accepted in clear here).
"""
from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, jsonify

from wechat_sandbox import pay_v3_notify as notify
from wechat_sandbox.pay_v3 import (_authenticate, _body, _check_notify_url, _json, _pay_error, _positive_int,
                                   _sign_and_record, _string)
from wechat_sandbox.pay_v3_common import PayError, digits, pay_area, settings, state
from wechat_sandbox.pay_v3_control import _error, _options, _send_or_hold

api = Blueprint("pay_v3_transfers", __name__)
api.before_request(_authenticate)
api.after_request(_sign_and_record)
api.register_error_handler(PayError, _pay_error)
control = Blueprint("pay_v3_transfers_control", __name__, url_prefix="/sandbox/pay/transfer-bills")

OUT_BILL_NO_RE = re.compile(r"^[0-9A-Za-z]{5,32}$")
FINAL = ("SUCCESS", "FAIL", "CANCELLED")
SCENE_REPORTS = {"1005": ("岗位类型", "报酬说明")}  # 佣金报酬
EVENT = "MCHTRANSFER.BILL.FINISHED"
notify.SUMMARIES.setdefault(EVENT, "商家转账单据终态通知")


def _bills() -> dict[str, dict[str, Any]]:
    return pay_area(state()).setdefault("transfer_bills", {})


def _bill_json(bill: dict[str, Any]) -> dict[str, Any]:
    body = {k: bill[k] for k in ("mch_id", "out_bill_no", "transfer_bill_no", "appid", "state", "transfer_amount",
                                 "transfer_remark", "openid", "create_time", "update_time")}
    if bill.get("fail_reason"):
        body["fail_reason"] = bill["fail_reason"]
    return body


def _check_reports(scene_id: str, infos: Any) -> list[dict[str, str]]:
    if infos is None:
        infos = []
    if not isinstance(infos, list) or not all(
            isinstance(i, dict) and isinstance(i.get("info_type"), str) and isinstance(i.get("info_content"), str)
            and 0 < len(i["info_content"]) <= 32 for i in infos):
        raise PayError(400, "PARAM_ERROR", "transfer_scene_report_infos 格式错误")
    missing = set(SCENE_REPORTS.get(scene_id, ())) - {i["info_type"] for i in infos}
    if missing:
        raise PayError(400, "PARAM_ERROR", f"转账场景{scene_id}需报备：{'、'.join(sorted(missing))}")
    return infos


@api.post("/v3/fund-app/mch-transfer/transfer-bills")
def create_bill() -> Response:
    data = _body()
    appid = _string(data, "appid", 32)
    if appid not in settings().apps:
        raise PayError(400, "PARAM_ERROR", "appid 不存在或与商户号未绑定")
    out_bill_no = _string(data, "out_bill_no", 32)
    if not OUT_BILL_NO_RE.match(out_bill_no):
        raise PayError(400, "PARAM_ERROR", "out_bill_no 只能由数字、大小写字母组成")
    scene_id = _string(data, "transfer_scene_id", 36)
    openid = _string(data, "openid", 64)
    amount = _positive_int(data.get("transfer_amount"), "transfer_amount")
    remark = _string(data, "transfer_remark", 32)
    notify_url = _string(data, "notify_url", 256, required=False)
    if notify_url:
        _check_notify_url(notify_url)
    if data.get("user_name") is not None:
        raise PayError(400, "PARAM_ERROR", "user_name 需使用微信支付公钥加密")
    _check_reports(scene_id, data.get("transfer_scene_report_infos"))
    st = state()
    with st.lock:
        existing = _bills().get(out_bill_no)
        if existing is not None:
            if (existing["openid"], existing["transfer_amount"], existing["appid"]) != (openid, amount, appid):
                raise PayError(400, "INVALID_REQUEST", "商户单号已存在，且请求参数不一致")
            answer = existing
        else:
            now = _now()
            answer = _bills()[out_bill_no] = {
                "mch_id": settings().mchid, "out_bill_no": out_bill_no, "transfer_bill_no": "1330" + digits(36),
                "appid": appid, "state": "WAIT_USER_CONFIRM", "transfer_amount": amount, "transfer_remark": remark,
                "openid": openid, "create_time": now, "update_time": now, "notify_url": notify_url,
                "package_info": "ABBQO+oYAAABAAAAAAB" + secrets.token_urlsafe(24), "scene_id": scene_id,
            }
        body = {k: answer[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")}
        if answer["state"] == "WAIT_USER_CONFIRM":
            body["package_info"] = answer["package_info"]
        if answer.get("fail_reason"):
            body["fail_reason"] = answer["fail_reason"]
    return _json(200, body)


@api.get("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/<out_bill_no>")
def query_bill(out_bill_no: str) -> Response:
    with state().lock:
        bill = _bills().get(out_bill_no)
        if bill is None:
            raise PayError(404, "NOT_FOUND", "转账单不存在")
        return _json(200, _bill_json(bill))


@control.post("/<out_bill_no>/confirm")
def finish(out_bill_no: str) -> Response:
    options, _ = _options()
    final = options.get("state", "SUCCESS")
    if final not in FINAL:
        return _error(400, "PARAM_ERROR", f"state must be one of {', '.join(FINAL)}")
    st = state()
    with st.lock:
        bill = _bills().get(out_bill_no)
        if bill is None:
            return _error(404, "NOT_FOUND", "no such bill")
        if bill["state"] in FINAL:
            return _error(409, "BILL_FINISHED", f"the bill is already {bill['state']}")
        bill["state"], bill["update_time"] = final, _now()
        if final == "FAIL":
            bill["fail_reason"] = str(options.get("fail_reason") or "PAYEE_ACCOUNT_ABNORMAL")[:64]
        resource = {"mchid": bill["mch_id"], "out_bill_no": out_bill_no, "transfer_bill_no": bill["transfer_bill_no"],
                    "state": final, "transfer_amount": bill["transfer_amount"], "openid": bill["openid"],
                    "create_time": bill["create_time"], "update_time": bill["update_time"]}
        if bill.get("fail_reason"):
            resource["fail_reason"] = bill["fail_reason"]
    note = notify.create(st, settings(), subject=("mch_payment", out_bill_no), event_type=EVENT, resource=resource,
                         notify_url=bill["notify_url"])
    _send_or_hold(note, bool(options.get("notify", True)))
    return jsonify(bill=_bill_json(bill), notification_id=note["id"])


@control.post("/<out_bill_no>/notify")
def resend(out_bill_no: str) -> Response:
    options, _ = _options()
    note = notify.last_for(state(), ("mch_payment", out_bill_no))
    if note is None:
        return _error(404, "NOT_FOUND", "no notification for this bill")
    notify.dispatch(state(), settings(), note, times=int(options.get("times", 1)))
    return jsonify(notification_id=note["id"])


def _now() -> str:
    from wechat_sandbox.pay_v3_crypto import china_now

    return china_now()
