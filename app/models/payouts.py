"""Paying net commission out to a clerk's WeChat balance with WeChat Pay's merchant transfer (商家转账, the version in
which the receiver confirms in the mini-program)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# WeChat's bill states (transfer-bills: ACCEPTED, PROCESSING, WAIT_USER_CONFIRM, TRANSFERING, SUCCESS, FAIL,
# CANCELING, CANCELLED), and REQUESTED: recorded here, not yet accepted by WeChat.
FINAL_PAYOUT_STATES = ("SUCCESS", "FAIL", "CANCELLED")
RELEASED_PAYOUT_STATES = ("FAIL", "CANCELLED")  # the money never left: it is payable again


class CommissionPayout(db.Model):
    """One transfer, recorded once (unique out_bill_no, made before WeChat is asked, so every retry asks for the
    same bill), with WeChat's state; a final state is never changed again."""

    __tablename__ = "commission_payouts"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),
                      Index("ix_commission_payouts_seat_state", "seat_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    out_bill_no: Mapped[str] = mapped_column(String(32), unique=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    appid: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="REQUESTED")
    transfer_bill_no: Mapped[str | None] = mapped_column(String(64))
    # What the mini-program passes to wx.requestMerchantTransfer while the bill waits for the receiver.
    package_info: Mapped[str | None] = mapped_column(String(1024))
    fail_reason: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
