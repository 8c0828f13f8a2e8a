"""Store pickup: the code a paid order is collected with, the log of every attempt to use one, and the report of
each pickup to WeChat's shipping-info API."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class PickupCode(db.Model):
    """One per paid order. Redeemed by one guarded UPDATE (`redeemed_at IS NULL`), so it is handed over once;
    revoked when the order is refunded; dead after `expires_at` (the pickup deadline)."""

    __tablename__ = "pickup_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    # 12 digits; unique across all stores so a typed code names exactly one order.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by_seat_id: Mapped[int | None] = mapped_column(ForeignKey("staff_seats.id"))
    # The current QR token: only its SHA-256 (the token itself is a random reference that carries no code), until
    # qr_expires_at; a new one replaces it, and a handover by it spends it (app/pickup/qr.py).
    qr_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    qr_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PickupAttempt(db.Model):
    """The redemption log: every lookup and redeem, good or bad, by which seat of which store, with its outcome.
    Failed attempts are committed on their own, before the error answer rolls the request back."""

    __tablename__ = "pickup_attempts"
    __table_args__ = (
        Index("ix_pickup_attempts_store_at", "store_id", "at"),
        Index("ix_pickup_attempts_seat_at", "seat_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))  # the store of the seat, not of the order
    # The order the code or token named, when it named one (kept for audit even for another store's order).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # lookup, redeem
    via: Mapped[str] = mapped_column(String(8))  # code, qr
    # ok, redeemed, pickup_not_found, wrong_store, already_redeemed, order_not_redeemable, qr_token_invalid,
    # qr_token_expired, rate_limited
    outcome: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShippingReport(db.Model):
    """The pickup reported to wxa/sec/order/upload_shipping_info: created with the handover, so a pickup whose
    report was lost or failed is found by the sweep; `reported_at` set means done, never sent again."""

    __tablename__ = "shipping_reports"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set while one worker is calling WeChat, so a retry and the sweep do not call at the same time.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_errcode: Mapped[int | None] = mapped_column(Integer)
    # Why WeChat refused for good (a permanent errcode), for operators: never retried.
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
