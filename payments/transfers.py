"""Merchant transfers (商家转账, user-confirm version) with the WeChat Pay v3 client: the domain's TransferGateway,
and the endpoint of the bills' final-state notifications.

API (WeChat Pay, 商家转账 "发起转账" / "商户单号查询转账单" / "商家转账回调通知"; the same paths and fields in
wechatpay-go `services/transferbatch`'s successor and WxJava's `TransferService`):
- `POST /v3/fund-app/mch-transfer/transfer-bills` {appid, out_bill_no, transfer_scene_id, openid, transfer_amount,
  transfer_remark, notify_url, user_recv_perception?, transfer_scene_report_infos?} -> {out_bill_no,
  transfer_bill_no, create_time, state, fail_reason?, package_info}
- `GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}` -> {mch_id, out_bill_no,
  transfer_bill_no, appid, state, transfer_amount, transfer_remark, fail_reason, openid, create_time, update_time}
- notification `MCHTRANSFER.BILL.FINISHED`, resource (original_type `mch_payment`) {mchid, out_bill_no,
  transfer_bill_no, state, transfer_amount, openid, fail_reason, create_time, update_time}
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask

from app.commission.payouts import TransferState, handle_transfer_notification
from payments.gateway import _gateway_error
from payments.wechatpay_v3 import WeChatPayAPIError, WeChatPayClient, WeChatPayError

TRANSFER_BILLS = "/v3/fund-app/mch-transfer/transfer-bills"
bp = Blueprint("wechatpay_transfers", __name__, url_prefix="/payments/wechatpay")


def transfer_state_from(data: dict[str, Any]) -> TransferState:
    amount = data.get("transfer_amount")
    return TransferState(out_bill_no=str(data.get("out_bill_no") or ""), state=str(data.get("state") or ""),
                         transfer_bill_no=data.get("transfer_bill_no"), package_info=data.get("package_info"),
                         fail_reason=data.get("fail_reason"), mchid=data.get("mchid") or data.get("mch_id"),
                         amount_fen=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
                         openid=data.get("openid"))


class WeChatPayTransfers:
    def __init__(self, client: WeChatPayClient, mchid: str, public_base_url: str, scene_id: str,
                 report_infos: list[dict[str, str]]) -> None:
        self.client, self.mchid, self.scene_id, self.report_infos = client, mchid, scene_id, report_infos
        self.notify_url = f"{public_base_url.rstrip('/')}/payments/wechatpay/transfer-notify"

    def transfer(self, *, appid: str, out_bill_no: str, openid: str, amount_fen: int, remark: str) -> TransferState:
        payload: dict[str, Any] = {"appid": appid, "out_bill_no": out_bill_no, "transfer_scene_id": self.scene_id,
                                   "openid": openid, "transfer_amount": amount_fen, "transfer_remark": remark,
                                   "notify_url": self.notify_url, "user_recv_perception": "佣金"}
        if self.report_infos:
            payload["transfer_scene_report_infos"] = self.report_infos
        try:
            return transfer_state_from(self.client._call_json("POST", TRANSFER_BILLS, payload=payload))
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc

    def query_transfer(self, out_bill_no: str) -> TransferState | None:
        try:
            return transfer_state_from(self.client._call_json(
                "GET", f"{TRANSFER_BILLS}/out-bill-no/{quote(out_bill_no, safe='')}"))
        except WeChatPayAPIError as exc:
            if exc.code == "NOT_FOUND":
                return None
            raise _gateway_error(exc) from exc
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc


@bp.post("/transfer-notify")
def transfer_notify():
    from payments.notify_views import _receive

    # Merchant-transfer notifications are MCHTRANSFER.BILL.FINISHED; any other kind is refused before it is recorded.
    return _receive(handle_transfer_notification, transfer_state_from, "MCHTRANSFER.")


def install(app: Flask) -> None:
    cache: dict[str, Any] = {}

    def transfers() -> WeChatPayTransfers:
        if "transfers" not in cache:
            config = app.config
            # 佣金报酬 (commission); the scene's report items are what the merchant registered for that scene.
            cache["transfers"] = WeChatPayTransfers(
                app.extensions["wechatpay_client"](), config["WECHATPAY_MCHID"], config["PUBLIC_BASE_URL"],
                config["PAYOUT_TRANSFER_SCENE_ID"],
                [{"info_type": "岗位类型", "info_content": "门店店员"}, {"info_type": "报酬说明", "info_content": "门店佣金"}])
        return cache["transfers"]

    app.extensions["transfer_gateway"] = transfers
    app.register_blueprint(bp)
