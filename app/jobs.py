"""Background work: enqueued after the commit that makes its rows visible, run later in a fresh app context.

With REDIS_URL: RQ (`micromall worker` runs the jobs, `micromall cron` enqueues the periodic ones). Without it
(development only; production refuses to start without Redis): a small thread pool in the web process, or, with
JOBS_EAGER=1, right after the commit in the committing thread.

Jobs are named by import path ("app.orders.expiry:expire_due_orders") and take ids, never objects.
"""
from __future__ import annotations

import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.logs import request_id_var

log = logging.getLogger(__name__)
QUEUE_NAME = "micromall"
_PENDING_KEY = "micromall_after_commit_jobs"


@dataclass(frozen=True)
class PendingJob:
    target: str
    args: tuple[Any, ...]
    job_id: str | None = None
    retries: tuple[int, ...] = field(default=())  # seconds between retries, when the job is safe to repeat
    request_id: str | None = None  # the request that caused it, carried into the job's log lines


def enqueue(target: str, *args: Any, job_id: str | None = None, retries: tuple[int, ...] = ()) -> None:
    """Run `target(*args)` in the background once the current transaction commits (dropped on rollback)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL is still a rollback that drops this job
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((current_app._get_current_object(),
                    PendingJob(target, args, job_id, retries, request_id_var.get())))


def execute(target: str, *args: Any) -> Any:
    """What RQ and the in-process runner call: resolve the target and run it in its own app context, so every job
    has its own session and one commit."""
    rq_job = get_current_job()
    if rq_job is not None and rq_job.meta.get("request_id"):
        request_id_var.set(rq_job.meta["request_id"])
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    if has_app_context():
        app = current_app._get_current_object()
    else:  # an RQ worker started without `micromall worker` (e.g. `rq worker`)
        from app import create_app

        app = create_app()
    with app.app_context():
        return func(*args)


def queue(app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()
    connection = app.extensions["micromall_redis"]
    if connection is None:
        raise RuntimeError("RQ needs REDIS_URL")
    return Queue(QUEUE_NAME, connection=connection)


def _dispatch(app: Flask, job: PendingJob) -> None:
    connection = app.extensions["micromall_redis"]
    if connection is not None:
        options: dict[str, Any] = {"job_id": job.job_id, "meta": {"request_id": job.request_id}}
        if job.retries:
            options["retry"] = Retry(max=len(job.retries), interval=list(job.retries))
        if job.job_id and Queue(QUEUE_NAME, connection=connection).fetch_job(job.job_id) is not None:
            return  # a deterministic id already queued or run: the duplicate must not run twice
        Queue(QUEUE_NAME, connection=connection).enqueue(execute, job.target, *job.args, **options)
        return
    if app.config["JOBS_EAGER"]:
        _run_logged(app, job)
    else:
        _executor(app).submit(_run_logged, app, job)


def _run_logged(app: Flask, job: PendingJob) -> None:
    token = request_id_var.set(job.request_id)
    with app.app_context():
        try:
            execute(job.target, *job.args)
        except Exception:
            log.exception("in-process job %s%r failed", job.target, job.args)
    request_id_var.reset(token)


def _executor(app: Flask) -> ThreadPoolExecutor:
    return app.extensions["micromall_job_threads"]


def init_app(app: Flask) -> None:
    if app.extensions.get("micromall_redis") is None:
        app.extensions["micromall_job_threads"] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for app, job in session.info.pop(_PENDING_KEY, []):
        try:
            _dispatch(app, job)
        except Exception:
            # The commit stands; a lost enqueue is caught up by the periodic sweeps (expiry, reconciliation).
            log.exception("could not enqueue %s%r", job.target, job.args)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    # Any rollback of the outer transaction drops the jobs (even one that ran no SQL); a savepoint's does not.
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
