"""WeChat Pay's side of an order: the prepay, the transaction that paid it, refunds, and every notification."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Payment(db.Model):
    """One per order: out_trade_no is the order_no (API.md), so support staff find it in the WeChat Pay console."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    payer_openid: Mapped[str] = mapped_column(String(64))
    prepay_id: Mapped[str | None] = mapped_column(String(64))
    prepay_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Unique: one WeChat transaction can pay one order once, however often it is notified.
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_queried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its WeChat order was closed (a cancelled order's, no sooner than 5 minutes after it was created).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(db.Model):
    """A full refund of an order. out_refund_no is fixed at creation so every retry asks WeChat for the same refund."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not unique: after a failed refund a person may start another, with a new out_refund_no.
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64))
    # requested (not yet accepted by WeChat), processing, success, abnormal, closed
    status: Mapped[str] = mapped_column(String(20), default="requested")
    refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class _NotificationRecord:
    """Every verified notification from WeChat Pay, by its id (unique: a repeat is answered, never applied again),
    with what we made of it. Payment and refund notifications each have their own table: an id is claimed only by
    the endpoint of its kind, so a notification sent to the wrong endpoint cannot spend the id of its real delivery
    (issue 11 finding 7)."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    out_trade_no: Mapped[str | None] = mapped_column(String(32), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(64))  # applied, repeat, late_paid, late_refunded, rejected:<why>…
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentNotification(_NotificationRecord, db.Model):
    """What arrived at /payments/wechatpay/notify (TRANSACTION.*)."""

    __tablename__ = "payment_notifications"


class RefundNotification(_NotificationRecord, db.Model):
    """What arrived at /payments/wechatpay/refund-notify (REFUND.*)."""

    __tablename__ = "refund_notifications"


class TransferNotification(_NotificationRecord, db.Model):
    """Merchant-transfer notifications (commission payouts, MCHTRANSFER.BILL.FINISHED); `out_refund_no` holds the
    bill number (out_bill_no)."""

    __tablename__ = "transfer_notifications"
