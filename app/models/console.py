"""People who run the shops from the merchant console: their accounts, the stores a manager runs, every change they
made (the audit log) and the one-time nonces of scan-to-login."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

CONSOLE_ROLES = ("owner", "manager", "viewer")


class ConsoleUser(db.Model):
    """owner: every store, console users, settings; manager: the stores linked in console_user_stores; viewer:
    reads only (the stores linked, or every store when none is linked)."""

    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint("role IN ('owner', 'manager', 'viewer')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # werkzeug's "scrypt:32768:8:1$salt$hash": the scheme travels with the hash, so it can be raised later.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    # A password someone else chose (create-owner, an owner's reset) must be replaced at the first login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The official account's openid of the user, once they bound their WeChat (scan-to-login).
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bumped by a password change or a disable: every session signed with an older value stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsoleUserStore(db.Model):
    __tablename__ = "console_user_stores"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)


class ConsoleAuditEntry(db.Model):
    """Append-only: who changed what, with the values before and after (JSON)."""

    __tablename__ = "console_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))  # "stock.set", "order.ready", "login.failed", …
    target: Mapped[str] = mapped_column(String(128), default="")  # "store:1/sku:3", "order:M2026…"
    store_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ConsoleLoginNonce(db.Model):
    """Scan-to-login: the browser holds the nonce (in its session), the QR code carries `login_<nonce>` as its
    scene; when the official-account callback sees that scene from a bound openid, the nonce is confirmed and the
    waiting browser signs in. Only the SHA-256 of the nonce is kept."""

    __tablename__ = "console_login_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsoleImport(db.Model):
    """A catalog CSV an owner uploaded: checked (preview), then imported by a background job, all or nothing. The
    file is kept here, not on one web host's disk, so any worker can run the import."""

    __tablename__ = "console_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    # MEDIUMTEXT on MySQL (16 MiB): TEXT stops at 64 KiB, a few hundred lines.
    content: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql"))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="previewed")  # previewed, queued, done, failed
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
