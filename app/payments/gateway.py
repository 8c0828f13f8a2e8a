"""The port through which the domain talks to WeChat Pay. The adapter in `payments/` implements it with the v3
client and installs it at create_app(); the domain never imports the adapter (DESIGN.md: imports run one way)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import current_app


@dataclass(frozen=True)
class Transaction:
    """What WeChat Pay says about one out_trade_no (from a query or a decrypted notification)."""

    out_trade_no: str
    trade_state: str  # SUCCESS, NOTPAY, CLOSED, REFUND, USERPAYING, PAYERROR, REVOKED
    transaction_id: str | None = None
    total_fen: int | None = None
    payer_openid: str | None = None
    appid: str | None = None
    mchid: str | None = None
    success_time: datetime | None = None


@dataclass(frozen=True)
class RefundState:
    out_refund_no: str
    status: str  # PROCESSING, SUCCESS, ABNORMAL, CLOSED
    refund_id: str | None = None
    out_trade_no: str | None = None
    mchid: str | None = None
    refund_fen: int | None = None


class GatewayError(Exception):
    """WeChat Pay said no, or did not answer. `retryable`: a later try may succeed (network, 5xx, rate limit)."""

    def __init__(self, message: str, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class PaymentGateway(Protocol):
    appid: str
    mchid: str

    def prepay(self, *, out_trade_no: str, description: str, total_fen: int, payer_openid: str,
               time_expire: datetime) -> str: ...

    def payment_params(self, prepay_id: str) -> dict[str, Any]: ...

    def query(self, out_trade_no: str) -> Transaction | None: ...  # None: WeChat has no such order

    def close(self, out_trade_no: str) -> None: ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundState: ...

    def query_refund(self, out_refund_no: str) -> RefundState: ...


def gateway() -> PaymentGateway:
    return current_app.extensions["payment_gateway"]()
