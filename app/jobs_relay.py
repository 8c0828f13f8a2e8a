"""The outbox relay and the periodic jobs, in one supervised loop (`micromall cron`, and a thread of each
`micromall worker`).

Every tick (1 s) it (1) adds an outbox row for each periodic job that is due, with the dedup key
`periodic:<target>`, so however many loops run, one copy waits at a time; (2) hands to RQ the rows whose
`available_at` passed: rows whose fast path failed (Redis was down, the process died after the commit), retries that
are due, and rows a killed worker left `running` (after JOBS_LEASE_S, 40 s). Each row is claimed by a conditional
UPDATE first, so two relays never hand the same row over twice in one lease.

An error (database or Redis down or frozen) is logged and retried with a backoff up to 30 s; the loop never dies
with the process still up. Both steps need only the database to record work, so periodic jobs keep their schedule
through a Redis outage and run as soon as it ends.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from app import jobs
from app.extensions import db
from app.models.outbox import JobStatus, OutboxJob
from app.models.types import utcnow

log = logging.getLogger(__name__)
TICK_S = 1.0
MAX_BACKOFF_S = 30.0
RELAY_BATCH = 200


def relay_due_rows(app: Flask, limit: int = RELAY_BATCH) -> int:
    """Hand over every row whose time came; returns how many. Raises when the database or Redis fails."""
    now = utcnow()
    due = db.session.execute(
        select(OutboxJob.id, OutboxJob.status, OutboxJob.available_at)
        .where(OutboxJob.status.in_((JobStatus.PENDING, JobStatus.RUNNING)), OutboxJob.available_at <= now)
        .order_by(OutboxJob.available_at).limit(limit)).all()
    db.session.commit()
    handed = 0
    for row_id, status, seen_at in due:
        claimed = db.session.execute(
            update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.status == status,
                                    OutboxJob.available_at == seen_at)
            .values(available_at=utcnow() + jobs.lease(app))).rowcount
        db.session.commit()
        if not claimed:
            continue  # another relay took it
        if status == JobStatus.RUNNING:
            log.warning("job %s was left running (its worker died?): handed over again", row_id)
        try:
            jobs.hand_over(app, row_id)
        except Exception:
            # Try again soon rather than after a whole lease.
            db.session.execute(update(OutboxJob).where(OutboxJob.id == row_id)
                               .values(available_at=utcnow() + timedelta(seconds=2)))
            db.session.commit()
            raise
        handed += 1
    return handed


def enqueue_due_periodic(last_run: dict[str, float], now_s: float | None = None) -> list[str]:
    """Add an outbox row for each periodic job whose interval passed since this loop last added it (a no-op for
    one whose previous copy still waits or runs)."""
    from flask import current_app

    from app.schedule import PERIODIC

    scale = current_app.config["PERIODIC_INTERVAL_PERCENT"] / 100
    now_s = time.monotonic() if now_s is None else now_s
    added = []
    for func, every in PERIODIC:
        target = jobs.target_of(func) if callable(func) else func
        if now_s - last_run.get(target, -float("inf")) < every * scale:
            continue
        jobs.enqueue(target, job_id=f"periodic:{target}")
        db.session.commit()
        last_run[target] = now_s
        added.append(target)
    return added


def tick(app: Flask, last_run: dict[str, float]) -> None:
    with app.app_context():
        try:
            enqueue_due_periodic(last_run)
            relay_due_rows(app)
        finally:
            db.session.remove()


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """The supervised loop: survives database and Redis errors with a backoff, ends only when `stop` is set."""
    stop = stop or threading.Event()
    last_run: dict[str, float] = {}
    backoff = 0.0
    while not stop.is_set():
        try:
            tick(app, last_run)
            if backoff:
                log.warning("relay and scheduler working again")
            backoff = 0.0
        except Exception as exc:
            backoff = min(MAX_BACKOFF_S, max(1.0, backoff * 2))
            log.error("relay/scheduler tick failed (%s: %s); next try in %.0f s", type(exc).__name__, exc, backoff)
        stop.wait(backoff or TICK_S)


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(app, stop), name="relay", daemon=True).start()
    return stop

