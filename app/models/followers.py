"""Followers of the official account, linked to the mini-program's Customer by unionid, and the keyword rules
that answer their texts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Follower(db.Model):
    """One official-account openid. Kept after unsubscribe, so attribution and history survive a re-follow."""

    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set from whichever side learns the unionid second: the follower's user/info or the customer's login.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    # The store whose QR code brought the follower in (the first one: later scans do not re-attribute).
    source_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"), index=True)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # DOUBLE: MySQL's FLOAT is single precision, about a metre off at these magnitudes.
    last_latitude: Mapped[float | None] = mapped_column(Double)
    last_longitude: Mapped[float | None] = mapped_column(Double)
    last_located_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReplyRule(db.Model):
    """A keyword answer managed from the command line. An exact match beats a contains match; within each,
    the higher priority wins. Keywords are stored case-folded and matched against the case-folded text."""

    __tablename__ = "oa_reply_rules"
    __table_args__ = (
        UniqueConstraint("match_type", "keyword"),
        CheckConstraint("match_type IN ('exact', 'contains')", name="match_type_known"),
        CheckConstraint("reply_type IN ('text', 'news')", name="reply_type_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    keyword: Mapped[str] = mapped_column(String(64))
    match_type: Mapped[str] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    reply_type: Mapped[str] = mapped_column(String(8))
    # text: the reply; news: the article's description.
    content: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(512), default="")
    image_url: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
