"""One row per (order, kind, channel): the guard that sends each order notification at most once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class NotificationStatus:
    SENDING = "sending"  # claimed; a crash here leaves it claimed, and it is not sent again (at most once)
    SENT = "sent"
    FAILED = "failed"  # a transient error: the job's retry may claim it again
    REFUSED = "refused"  # 43101: the customer has no subscription left for this template; never retried
    ERROR = "error"  # a permanent error from WeChat (bad template, not a follower, …); never retried


class NotificationLog(db.Model):
    __tablename__ = "notification_log"
    __table_args__ = (UniqueConstraint("order_id", "kind", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # paid, ready, picked_up, refunded
    channel: Mapped[str] = mapped_column(String(16))  # subscribe (mini-program), template (official account)
    recipient: Mapped[str] = mapped_column(String(64))  # the openid it went to
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.SENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    errcode: Mapped[int | None] = mapped_column(Integer)
    msgid: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
