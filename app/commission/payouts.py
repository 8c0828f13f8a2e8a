"""Paying net commission to a clerk's WeChat balance (商家转账, user-confirm version).

1. `request_payout` (a manager, or the CLI) records the payout — `out_bill_no` fixed before WeChat is asked — under
   a lock on the seat's row, so two requests at once cannot both spend one balance. Payable = the seat's ledger total
   minus its payouts not FAIL/CANCELLED.
2. The job `send_payout` asks WeChat Pay (`POST /v3/fund-app/mch-transfer/transfer-bills`); the bill answers
   WAIT_USER_CONFIRM with a `package_info` that the staff mini-program passes to `wx.requestMerchantTransfer`.
3. The receiver confirms; WeChat Pay notifies `MCHTRANSFER.BILL.FINISHED` (SUCCESS, FAIL or CANCELLED) to
   `/payments/wechatpay/transfer-notify`; the notification is recorded once by its id and applied once; a final
   state never changes. The sweep `reconcile_payouts` queries bills whose notification is late.
No transaction is open while WeChat is called.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, select, update

from app import jobs
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import CommissionEntry, CommissionPayout, StaffSeat, TransferNotification, utcnow
from app.models.payouts import FINAL_PAYOUT_STATES, RELEASED_PAYOUT_STATES
from app.payments.gateway import GatewayError
from app.uow import commit_before_calling_wechat

log = logging.getLogger(__name__)
SEND_RETRIES_S = (10, 60, 300, 1800)
# The transfer remark the receiver sees: at most 32 characters (transfer-bills `transfer_remark`).
REMARK = "门店佣金"


@dataclass(frozen=True)
class TransferState:
    out_bill_no: str
    state: str
    transfer_bill_no: str | None = None
    package_info: str | None = None
    fail_reason: str | None = None
    mchid: str | None = None
    amount_fen: int | None = None
    openid: str | None = None


class TransferGateway(Protocol):
    mchid: str

    def transfer(self, *, appid: str, out_bill_no: str, openid: str, amount_fen: int, remark: str) -> TransferState:
        ...

    def query_transfer(self, out_bill_no: str) -> TransferState | None: ...  # None: WeChat has no such bill


def transfer_gateway() -> TransferGateway:
    return current_app.extensions["transfer_gateway"]()


def payable_fen(seat_id: int) -> int:
    earned = db.session.scalar(select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0))
                               .where(CommissionEntry.seat_id == seat_id))
    paying = db.session.scalar(select(func.coalesce(func.sum(CommissionPayout.amount_fen), 0)).where(
        CommissionPayout.seat_id == seat_id, CommissionPayout.state.not_in(RELEASED_PAYOUT_STATES)))
    return int(earned or 0) - int(paying or 0)


def request_payout(seat_id: int, amount_fen: int | None, requested_by: str,
                   store_id: int | None = None) -> CommissionPayout:
    """Record a payout of `amount_fen` (default: all that is payable) of a seat (of `store_id`, when a manager
    asks) and enqueue the transfer. Flushes.

    Call it at the start of a transaction (commit before): its first statement is the lock on the seat's row, so
    payouts of one seat are decided one after another, and the sums read after it see every payout committed
    before (MariaDB fixes a transaction's snapshot at its first plain read, not at a locking one)."""
    seat = db.session.scalar(select(StaffSeat).where(StaffSeat.id == seat_id).with_for_update())
    if seat is None or (store_id is not None and seat.store_id != store_id):
        raise NotFound(f"Staff seat {seat_id} does not exist at this store.")
    if not seat.active or not seat.openid:
        raise Conflict("This seat is disabled or not bound to a WeChat account.", {"seat_id": seat_id},
                       code="seat_not_payable")
    payable = payable_fen(seat.id)
    amount = payable if amount_fen is None else amount_fen
    if amount <= 0 or amount > payable:
        raise Conflict(f"{payable} fen is payable to this seat.", {"payable_fen": payable},
                       code="insufficient_commission")
    payout = CommissionPayout(out_bill_no=f"CP{secrets.token_hex(15)}", seat_id=seat.id, store_id=seat.store_id,
                              appid=current_app.config["STAFF_MINIPROGRAM_APPID"], openid=seat.openid,
                              amount_fen=amount, state="REQUESTED", requested_by=requested_by)
    db.session.add(payout)
    db.session.flush()
    jobs.enqueue(send_payout, payout.id, job_id=f"payout-send-{payout.id}",
                 retries=SEND_RETRIES_S)
    return payout


@jobs.job
def send_payout(payout_id: int) -> str:
    """Job: ask WeChat Pay for the transfer. Retries reuse the out_bill_no, so WeChat makes one bill."""
    payout = db.session.get(CommissionPayout, payout_id)
    if payout is None or payout.state != "REQUESTED":
        return "nothing_to_do"
    request: dict[str, Any] = dict(appid=payout.appid, out_bill_no=payout.out_bill_no, openid=payout.openid,
                   amount_fen=payout.amount_fen, remark=REMARK)
    commit_before_calling_wechat()
    try:
        state = transfer_gateway().transfer(**request)
    except GatewayError as exc:
        if exc.retryable:
            raise
        log.error("WeChat Pay refused payout %s: %s", payout.out_bill_no, exc.code)
        state = TransferState(payout.out_bill_no, "FAIL", fail_reason=(exc.code or "REFUSED")[:64])
    outcome = apply_transfer_state(payout, state)
    db.session.commit()
    return outcome


def apply_transfer_state(payout: CommissionPayout, state: TransferState) -> str:
    """Move the payout to WeChat's state by a guarded UPDATE; a final state is never left. Flushes."""
    if payout.state in FINAL_PAYOUT_STATES:
        return "repeat"
    if state.state == payout.state and not state.package_info:
        return "unchanged"
    values = {"state": state.state, "updated_at": utcnow()}
    for name in ("transfer_bill_no", "package_info", "fail_reason"):
        if getattr(state, name):
            values[name] = getattr(state, name)
    moved = db.session.execute(update(CommissionPayout).where(
        CommissionPayout.id == payout.id, CommissionPayout.state.not_in(FINAL_PAYOUT_STATES)).values(**values)
        .execution_options(synchronize_session=False))
    db.session.refresh(payout)
    return state.state.lower() if moved.rowcount == 1 else "repeat"


def handle_transfer_notification(notification_id: str, event_type: str, state: TransferState):
    """MCHTRANSFER.BILL.FINISHED, verified and decrypted by the adapter: recorded once by its id, applied once."""
    from app.payments.notifications import _claim, _finish

    # The record's out_refund_no column holds the bill number (both are "the other number").
    claimed = _claim(TransferNotification, notification_id, event_type, out_trade_no=None,
                     out_refund_no=state.out_bill_no)
    if claimed:
        return claimed
    payout = db.session.scalar(select(CommissionPayout).where(CommissionPayout.out_bill_no == state.out_bill_no))
    if state.mchid != transfer_gateway().mchid:
        return _finish(TransferNotification, notification_id, "rejected:mchid_mismatch")
    if payout is None:
        return _finish(TransferNotification, notification_id, "rejected:unknown_bill")
    if state.amount_fen is not None and state.amount_fen != payout.amount_fen:
        return _finish(TransferNotification, notification_id, "rejected:amount_mismatch")
    if state.state not in FINAL_PAYOUT_STATES:
        return _finish(TransferNotification, notification_id, f"ignored:{state.state}")
    return _finish(TransferNotification, notification_id, f"payout_{apply_transfer_state(payout, state)}")


@jobs.job
def reconcile_payouts(older_than_s: int = 600, limit: int = 100) -> int:
    """Periodic: bills not final after `older_than_s` are asked about (a lost notification, a lost request)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    ids = list(db.session.scalars(select(CommissionPayout.id).where(
        CommissionPayout.state.not_in(FINAL_PAYOUT_STATES), CommissionPayout.updated_at <= cutoff)
        .order_by(CommissionPayout.id).limit(limit)))
    db.session.commit()
    changed = 0
    for payout_id in ids:
        payout = db.session.get(CommissionPayout, payout_id)
        if payout.state == "REQUESTED":
            changed += send_payout(payout_id) not in ("nothing_to_do", "unchanged")
            continue
        out_bill_no = payout.out_bill_no
        commit_before_calling_wechat()
        try:
            state = transfer_gateway().query_transfer(out_bill_no)
        except GatewayError as exc:
            log.warning("could not query payout %s: %s", out_bill_no, exc.code)
            continue
        if state is not None:
            changed += apply_transfer_state(db.session.get(CommissionPayout, payout_id), state) not in (
                "repeat", "unchanged")
            db.session.commit()
    return changed


def payouts_of(seat_id: int, limit: int = 50) -> list[CommissionPayout]:
    return list(db.session.scalars(select(CommissionPayout).where(CommissionPayout.seat_id == seat_id)
                                   .order_by(CommissionPayout.id.desc()).limit(limit)))
