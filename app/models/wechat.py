"""What micromall keeps about WeChat permissions: one-time subscription grants and follower-link tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class SubscriptionGrant(db.Model):
    """How many one-time subscribe messages of a template the customer allowed (each accept of
    wx.requestSubscribeMessage allows one send); a send spends one, WeChat's 43101 clears them."""

    __tablename__ = "subscription_grants"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[str] = mapped_column(String(8), default="accept")  # accept, reject, ban, filter
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FollowerLinkToken(db.Model):
    """A one-time token the official account gives a follower (reply to 绑定) to link them to the customer who
    opens the mini-program with it: for apps that share no Open Platform account, hence no unionid."""

    __tablename__ = "follower_link_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256: a leaked table links no one
    follower_id: Mapped[int] = mapped_column(ForeignKey("followers.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
