"""Shop staff: a seat at one store (clerk or manager), the one-time invite that binds a WeChat openid to it, and the
server-side sessions of the staff mini-program."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

STAFF_ROLES = ("clerk", "manager")


class StaffSeat(db.Model):
    """A place behind one store's counter. The openid is empty until an invite binds it; disabling the seat (not
    deleting it) keeps the redemption log's "by whom" readable."""

    __tablename__ = "staff_seats"
    __table_args__ = (CheckConstraint("role IN ('clerk', 'manager')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="clerk")
    name: Mapped[str] = mapped_column(String(64), default="")
    # The staff mini-program's openid (its own appid, so not the consumer openid of the same person).
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffInvite(db.Model):
    """A one-time code that binds an openid to a seat. Only its SHA-256 is kept: the code is shown once."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))  # "cli" or "staff:<seat id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(db.Model):
    """token -> seat, by the token's SHA-256. The seat's `active` is checked on every request, so disabling a seat
    stops its sessions at once without hunting them down."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
