"""The job outbox: one row per job, written in the same transaction as the change that causes it (app/jobs.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class JobStatus:
    PENDING = "pending"  # waiting for the relay (or already handed to RQ, until available_at passes)
    RUNNING = "running"  # a worker took it; past available_at it is taken to be orphaned and handed out again
    DONE = "done"
    FAILED = "failed"  # raised on its last attempt; kept for the operator, its dedup key released


class OutboxJob(db.Model):
    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(200))  # import path "module:function" of a registered job
    args: Mapped[str] = mapped_column(Text)  # JSON list of ids and short strings
    # Unique while the job waits or runs (NULL once it is done or failed): a second enqueue of the same key is a
    # no-op, atomically, and a failed job never blocks the next one.
    dedup_key: Mapped[str | None] = mapped_column(String(191), unique=True)
    retries: Mapped[str] = mapped_column(String(200), default="[]")  # JSON list of delays (s) between attempts
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when the relay may send it
    request_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
