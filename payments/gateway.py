"""The domain's PaymentGateway, implemented with the WeChat Pay v3 client: v3 errors become GatewayError, v3 JSON
becomes Transaction / RefundState."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from app.payments.gateway import GatewayError, RefundState, Transaction
from payments.wechatpay_v3 import (
    WeChatPayAPIError,
    WeChatPayClient,
    WeChatPayError,
    WeChatPayTransportError,
    build_verifier,
    load_private_key,
)


def build_client(config) -> WeChatPayClient:
    verifier = build_verifier(public_key_id=config["WECHATPAY_PUBLIC_KEY_ID"] or None,
                              public_key_path=config["WECHATPAY_PUBLIC_KEY_PATH"] or None,
                              platform_cert_dir=config["WECHATPAY_PLATFORM_CERT_DIR"] or None)
    return WeChatPayClient(
        base_url=config["WECHATPAY_API_BASE_URL"], mchid=config["WECHATPAY_MCHID"],
        merchant_serial_no=config["WECHATPAY_MERCHANT_SERIAL_NO"],
        merchant_private_key=load_private_key(config["WECHATPAY_PRIVATE_KEY_PATH"]),
        apiv3_key=config["WECHATPAY_APIV3_KEY"], verifier=verifier)


def _gateway_error(exc: WeChatPayError) -> GatewayError:
    if isinstance(exc, WeChatPayAPIError):
        return GatewayError(f"{exc.code}: {exc.message}", code=exc.code, retryable=exc.retryable)
    if isinstance(exc, WeChatPayTransportError):
        return GatewayError(str(exc), code="TRANSPORT", retryable=True)
    # A response whose signature does not verify: never trusted, and worth another try.
    return GatewayError(str(exc), code=type(exc).__name__, retryable=True)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def transaction_from(data: dict[str, Any]) -> Transaction:
    amount, payer = data.get("amount") or {}, data.get("payer") or {}
    return Transaction(out_trade_no=str(data.get("out_trade_no") or ""), trade_state=str(data.get("trade_state") or ""),
                       transaction_id=data.get("transaction_id"), total_fen=amount.get("total"),
                       payer_openid=payer.get("openid"), appid=data.get("appid"), mchid=data.get("mchid"),
                       success_time=_time(data.get("success_time")))


def refund_state_from(data: dict[str, Any]) -> RefundState:
    amount = data.get("amount") or {}
    return RefundState(out_refund_no=str(data.get("out_refund_no") or ""),
                       status=str(data.get("refund_status") or data.get("status") or ""),
                       refund_id=data.get("refund_id"), out_trade_no=data.get("out_trade_no"),
                       mchid=data.get("mchid"), refund_fen=amount.get("refund"))


class WeChatPayGateway:
    def __init__(self, client: WeChatPayClient, appid: str, mchid: str, public_base_url: str) -> None:
        self.client, self.appid, self.mchid = client, appid, mchid
        self.notify_url = f"{public_base_url.rstrip('/')}/payments/wechatpay/notify"
        self.refund_notify_url = f"{public_base_url.rstrip('/')}/payments/wechatpay/refund-notify"

    def prepay(self, *, out_trade_no: str, description: str, total_fen: int, payer_openid: str,
               time_expire: datetime) -> str:
        try:
            return self.client.jsapi_prepay(appid=self.appid, description=description, out_trade_no=out_trade_no,
                                            notify_url=self.notify_url, total_fen=total_fen,
                                            payer_openid=payer_openid, time_expire=time_expire)
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc

    def payment_params(self, prepay_id: str) -> dict[str, Any]:
        return self.client.jsapi_payment_params(self.appid, prepay_id)

    def query(self, out_trade_no: str) -> Transaction | None:
        try:
            return transaction_from(self.client.query_by_out_trade_no(out_trade_no))
        except WeChatPayAPIError as exc:
            if exc.code == "ORDER_NOT_EXIST":
                return None
            raise _gateway_error(exc) from exc
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc

    def close(self, out_trade_no: str) -> None:
        try:
            self.client.close(out_trade_no)
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundState:
        try:
            return refund_state_from(self.client.refund(out_trade_no=out_trade_no, out_refund_no=out_refund_no,
                                                        refund_fen=refund_fen, total_fen=total_fen, reason=reason,
                                                        notify_url=self.refund_notify_url))
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc

    def query_refund(self, out_refund_no: str) -> RefundState:
        try:
            return refund_state_from(self.client.query_refund(out_refund_no))
        except WeChatPayError as exc:
            raise _gateway_error(exc) from exc


def install(app: Flask) -> None:
    """Build the client on first use (keys are read then, not at start-up), once per process."""
    cache: dict[str, Any] = {}

    def client() -> WeChatPayClient:
        if "client" not in cache:
            cache["client"] = build_client(app.config)
        return cache["client"]

    def gateway() -> WeChatPayGateway:
        if "gateway" not in cache:
            cache["gateway"] = WeChatPayGateway(client(), app.config["MINIPROGRAM_APPID"],
                                                app.config["WECHATPAY_MCHID"], app.config["PUBLIC_BASE_URL"])
        return cache["gateway"]

    app.extensions["wechatpay_client"] = client
    app.extensions["payment_gateway"] = gateway
