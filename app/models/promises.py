"""What a store promises (preparation time by time of day, a grace, the compensation for a late order) and what
customers say about it (ratings)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class StorePromise(db.Model):
    """A store's promise terms; a store without a row has the defaults (app.promises.terms.DEFAULTS)."""

    __tablename__ = "store_promises"
    __table_args__ = (
        CheckConstraint("prep_minutes BETWEEN 1 AND 240", name="prep_range"),
        CheckConstraint("grace_minutes BETWEEN 0 AND 120", name="grace_range"),
        CheckConstraint("compensation_fen >= 0", name="compensation_nonnegative"),
    )

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    prep_minutes: Mapped[int] = mapped_column(Integer)
    # Busier hours promise more: "11:30-13:30=20,17:30-19:00=15" (local time, minutes); outside them prep_minutes.
    busy_windows: Mapped[str] = mapped_column(String(200), default="")
    grace_minutes: Mapped[int] = mapped_column(Integer)
    compensation_fen: Mapped[int] = mapped_column(Integer)  # 0: no compensation coupon
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderRating(db.Model):
    """One rating per picked-up order (the unique order_id refuses a second one, even at the same instant)."""

    __tablename__ = "order_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        Index("ix_order_ratings_store_created", "store_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    tags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    comment: Mapped[str] = mapped_column(String(200), default="")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # low: shown to the store's managers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
