"""Background work through an outbox: a job is a row of `job_outbox`, written in the same transaction as the change
that causes it, so a job whose change committed is never lost, whatever dies when.

- `enqueue(func, *ids, job_id=..., retries=...)` adds the row (dropped with a rollback like any other row). `func`
  is a job function registered with `@jobs.job`; the row holds its import path.
- After the commit the row is handed to RQ at once (the fast path). If that fails (Redis down, a crash between
  commit and hand-over) the relay (`app.jobs_relay`, run by `micromall cron` and by each `micromall worker`) hands it
  over when its `available_at` passes; a row left `running` by a killed worker is handed over again the same way.
- A worker runs `run_outbox_job(row_id)`: it marks the row running, calls the function in its own app context (own
  session, one commit), then marks it done, or schedules the next retry, or failed after the last one.
- `enqueue_all([Job(...), ...])` adds several keyed jobs in one INSERT (one round trip where each was one).
- `job_id` is a de-duplication key, unique in the table while the job waits or runs: a second enqueue of the same
  key is a no-op, atomically (the database's unique index), and the key is released when the job is done or failed,
  so a failed job never blocks the next one.
- A row can be handed over twice (fast path and relay, a lease that ran out); every job is idempotent (each says
  how in its docstring), so a second run harms nothing.

Without REDIS_URL (development only; production refuses to start without Redis) the hand-over runs the job on a
small thread pool in the web process, or with JOBS_EAGER=1 right after the commit in the committing thread.
"""
from __future__ import annotations

import importlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, has_app_context
from rq import Queue
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.insert_unless_taken import insert_unless_taken
from app.logs import request_id_var
from app.models.outbox import JobStatus, OutboxJob
from app.models.types import utcnow

log = logging.getLogger(__name__)
QUEUE_NAME = "micromall"


def lease(app: Flask | None = None) -> timedelta:
    """JOBS_LEASE_S: a job runs well within it (every call to WeChat is bounded); a row still `running` after it
    is taken to be orphaned (its worker died) and handed out again. Also how long a fresh row waits for its fast
    path before the relay takes it."""
    app = app or current_app._get_current_object()
    return timedelta(seconds=app.config["JOBS_LEASE_S"])

_NEW_ROWS_KEY = "micromall_outbox_new_rows"
_REGISTRY: dict[str, Callable[..., Any]] = {}
F = TypeVar("F", bound=Callable[..., Any])


class JobNotRegistered(ValueError):
    pass


def job(func: F) -> F:
    """Registers `func` as a job: a module-level function of ids and short strings, idempotent."""
    _REGISTRY[target_of(func)] = func
    return func


def target_of(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def resolve(target: str) -> Callable[..., Any]:
    """The registered job at import path `target` (importing its module registers it)."""
    if target not in _REGISTRY and ":" in target:
        importlib.import_module(target.split(":", 1)[0])
    try:
        return _REGISTRY[target]
    except KeyError:
        raise JobNotRegistered(f"{target} is not a registered job (decorate it with @jobs.job)") from None


@dataclass(frozen=True)
class Job:
    """One keyed job for enqueue_all: what enqueue(func, *args, job_id=..., retries=...) is given."""
    func: Callable[..., Any] | str
    args: tuple[Any, ...]
    job_id: str
    retries: tuple[int, ...] = ()


def _row_values(func: Callable[..., Any] | str, args: tuple[Any, ...], job_id: str | None,
                retries: tuple[int, ...], available_at: datetime) -> dict[str, Any]:
    target = func if isinstance(func, str) else target_of(func)
    resolve(target)
    json_args = json.dumps(list(args))
    if json.loads(json_args) != list(args):
        raise TypeError(f"job arguments must be JSON values (ids, short strings): {args!r}")
    return dict(target=target, args=json_args, dedup_key=job_id, retries=json.dumps(list(retries)),
                status=JobStatus.PENDING, available_at=available_at, request_id=request_id_var.get())


def enqueue(func: Callable[..., Any] | str, *args: Any, job_id: str | None = None,
            retries: tuple[int, ...] = ()) -> int | None:
    """Add the job `func(*args)` to the outbox in the current transaction; it runs after the commit (never if the
    transaction rolls back). Returns the row id, or None when a job with the same `job_id` already waits or runs.
    A string "module:function" is accepted while older callers are converted; it must name a registered job."""
    values = _row_values(func, args, job_id, retries, utcnow() + lease())
    session = db.session()
    if job_id is None:
        row = OutboxJob(**values)
        session.add(row)
        session.flush()
        row_id: int | None = row.id
    else:
        session.flush()  # anything else pending fails here, on its own, not as a duplicate job
        row_id = _insert_unless_queued(session, values)
        if row_id is None:
            return None  # the same job already waits or runs: it will see this change too
    _hand_over_after_commit(session, [row_id])
    return row_id


def enqueue_all(calls: list[Job]) -> list[int | None]:
    """enqueue() of each keyed job, in one INSERT where the database returns what it inserted (MariaDB >= 10.5 and
    SQLite >= 3.35: INSERT … RETURNING); elsewhere one enqueue() after another. Returns the row ids in order,
    None for a job whose key already waits or runs (or comes twice in `calls`: the first one counts)."""
    session = db.session()
    dialect = session.get_bind().dialect
    if len(calls) < 2 or dialect.name not in ("mysql", "mariadb", "sqlite") or not dialect.insert_returning:
        return [enqueue(c.func, *c.args, job_id=c.job_id, retries=c.retries) for c in calls]
    # One available_at for the whole batch: a row returned with another one is not ours (below).
    available_at = utcnow() + lease()
    first: dict[str, dict[str, Any]] = {}
    for c in calls:
        first.setdefault(c.job_id, _row_values(c.func, c.args, c.job_id, c.retries, available_at))
    session.flush()  # anything else pending fails here, on its own, not as a duplicate job
    inserted = _insert_all_unless_queued(session, list(first.values()), available_at)
    ids: list[int | None] = []
    for c in calls:
        ids.append(inserted.pop(c.job_id, None))  # popped: a key given twice gets its id once
    _hand_over_after_commit(session, [row_id for row_id in ids if row_id is not None])
    return ids


def _hand_over_after_commit(session: Session, row_ids: list[int | None]) -> None:
    if row_ids:
        app = current_app._get_current_object()
        session.info.setdefault(_NEW_ROWS_KEY, []).extend((app, row_id) for row_id in row_ids)


def _insert_all_unless_queued(session: Session, rows: list[dict[str, Any]], available_at: datetime) -> dict[str, int]:
    """One INSERT of rows with distinct keys, each skipped when its key is taken, as _insert_unless_queued does one
    (same locking); {key: id} of the rows inserted. SQLite's RETURNING gives only the rows inserted. MariaDB's gives
    a duplicate's existing row too, whose available_at is not the batch's: the existing row was written by another
    statement at another microsecond (were it ever the same one, the job would be handed over once more, which
    every job allows: the module's docstring)."""
    dialect = session.get_bind().dialect.name
    statement = _INSERT_ALL.get(dialect)
    if statement is None:
        statement = _INSERT_ALL[dialect] = _insert_all_statement(dialect)
    # The rows as parameters of the one statement built once: SQLAlchemy sends them as one multi-row VALUES
    # ("insertmanyvalues") from a compiled form it keeps. `.values(rows)` built a new statement per call, which
    # SQLAlchemy compiled again each time (bench/hot_paths.py: a third of redeem_first's CPU in its handover).
    returned = session.execute(statement, rows)
    return {key: row_id for row_id, key, at in returned if at == available_at}


_INSERT_ALL: dict[str, Any] = {}


def _insert_all_statement(dialect: str) -> Any:
    table = OutboxJob.__table__
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=[table.c.dedup_key])
    else:
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(table).on_duplicate_key_update(dedup_key=table.c.dedup_key)
    return statement.returning(table.c.id, table.c.dedup_key, table.c.available_at)


def _insert_unless_queued(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT the row unless its dedup_key is taken; its id, or None. One statement where a SAVEPOINT, INSERT and
    RELEASE (or ROLLBACK TO) were three (app/insert_unless_taken.py)."""
    return insert_unless_taken(session, OutboxJob.__table__, values, key="dedup_key")


def hand_over(app: Flask, row_id: int) -> None:
    """Give one outbox row to whatever runs jobs here: RQ, or in-process without Redis."""
    connection = app.extensions["micromall_redis"]
    if connection is not None:
        _to_rq(Queue(QUEUE_NAME, connection=connection), app, row_id)
    elif app.config["JOBS_EAGER"]:
        _run_logged(app, row_id)
    else:
        app.extensions["micromall_job_threads"].submit(_run_logged, app, row_id)


def _to_rq(rq_queue: Queue, app: Flask, row_id: int, pipeline: Any = None) -> None:
    """The row as an RQ job; queued on `pipeline` (executed by the caller) when given, else sent now."""
    # A fresh RQ job id each time: RQ would overwrite a job of the same id, and the row is the real identity.
    rq_queue.enqueue(run_outbox_job, row_id, result_ttl=600, failure_ttl=86400,
                     job_timeout=int(lease(app).total_seconds()), pipeline=pipeline)


def hand_over_all(app: Flask, row_ids: list[int]) -> None:
    """hand_over() of each row: a commit's rows when its one pipeline (_hand_over_in_one_pipeline) was not used."""
    for row_id in row_ids:
        hand_over(app, row_id)


def run_outbox_job(row_id: int) -> str:
    """What a worker runs (RQ, the thread pool, the relay without Redis). Returns what happened."""
    if has_app_context():
        app = current_app._get_current_object()
    else:  # an RQ worker started without `micromall worker` (e.g. `rq worker`)
        from app import create_app

        app = create_app()
    with app.app_context():
        with db.engine.begin() as conn:
            row = conn.execute(OutboxJob.__table__.select().where(OutboxJob.id == row_id)).mappings().first()
            if row is None or row["status"] not in (JobStatus.PENDING, JobStatus.RUNNING):
                return "nothing_to_do"  # already done: a second hand-over
            conn.execute(update(OutboxJob).where(OutboxJob.id == row_id).values(
                status=JobStatus.RUNNING, attempts=OutboxJob.attempts + 1, available_at=utcnow() + lease(app)))
        token = request_id_var.set(row["request_id"])
        try:
            with app.app_context():  # its own session, committed by the job itself
                resolve(row["target"])(*json.loads(row["args"]))
        except Exception as exc:
            return _after_failure(row, exc)
        finally:
            request_id_var.reset(token)
        with db.engine.begin() as conn:
            conn.execute(update(OutboxJob).where(OutboxJob.id == row_id).values(
                status=JobStatus.DONE, dedup_key=None, finished_at=utcnow(), last_error=None))
        return "done"


def _after_failure(row: Any, exc: Exception) -> str:
    retries = json.loads(row["retries"] or "[]")
    attempt = row["attempts"] + 1
    error = f"{type(exc).__name__}: {exc}"[:500]
    if attempt <= len(retries):
        log.warning("job %s%s failed (attempt %d), retried in %ss: %s", row["target"], row["args"], attempt,
                    retries[attempt - 1], error)
        values = {"status": JobStatus.PENDING, "available_at": utcnow() + timedelta(seconds=retries[attempt - 1]),
                  "last_error": error}
        outcome = "retry"
    else:
        log.error("job %s%s failed for good after %d attempt(s)", row["target"], row["args"], attempt,
                  exc_info=exc)
        values = {"status": JobStatus.FAILED, "dedup_key": None, "finished_at": utcnow(), "last_error": error}
        outcome = "failed"
    with db.engine.begin() as conn:
        conn.execute(update(OutboxJob).where(OutboxJob.id == row["id"]).values(**values))
    return outcome


def _run_logged(app: Flask, row_id: int) -> None:
    with app.app_context():
        try:
            run_outbox_job(row_id)
        except Exception:
            log.exception("in-process job %s could not run", row_id)  # the relay hands it over again


def queue(app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()
    connection = app.extensions["micromall_redis"]
    if connection is None:
        raise RuntimeError("RQ needs REDIS_URL")
    return Queue(QUEUE_NAME, connection=connection)


def init_app(app: Flask) -> None:
    if app.extensions.get("micromall_redis") is None:
        app.extensions["micromall_job_threads"] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job")


def _hand_over_in_one_pipeline(session: Session, new_rows: list[tuple[Flask, int]]) -> bool:
    """With Redis: the commit's rows to RQ and the commit's settled markers (app/fastpath.py) in one pipeline, one
    round trip (each job was two: RQ's queue registration and the job; the markers one more). False without
    Redis. A failure leaves every row to the relay and the markers unwritten (a repeat asks the database): one
    timeout for a frozen Redis, as before."""
    app = new_rows[0][0]
    connection = app.extensions["micromall_redis"]
    if connection is None:
        return False
    from app import fastpath

    try:
        # MULTI/EXEC, as RQ's own enqueue pipelines are: a worker never sees a job half written.
        with connection.pipeline() as pipe:
            rq_queue = Queue(QUEUE_NAME, connection=connection)
            for row_app, row_id in new_rows:
                _to_rq(rq_queue, row_app, row_id, pipe)
            fastpath.add_to_pipeline(pipe, fastpath.take_pending(session))
            pipe.execute()
    except Exception as exc:
        log.warning("jobs %s left to the relay: %s: %s", [row_id for _, row_id in new_rows], type(exc).__name__,
                    exc)
    return True


# insert=True: before app/fastpath.py's own listener, so the markers ride in this commit's pipeline.
@event.listens_for(Session, "after_commit", insert=True)
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy fires after_commit for a SAVEPOINT's release too (the job key's begin_nested in enqueue): the
        # rows are not committed yet, and a worker that looked now would find nothing to run.
        return
    new_rows = session.info.pop(_NEW_ROWS_KEY, [])
    if not new_rows or _hand_over_in_one_pipeline(session, new_rows):
        return
    by_app: dict[Flask, list[int]] = {}
    for app, row_id in new_rows:
        by_app.setdefault(app, []).append(row_id)
    for app, row_ids in by_app.items():
        try:
            hand_over_all(app, row_ids)
        except Exception as exc:
            # The rows are committed: the relay hands them over once their available_at passes. The rest of this
            # commit's rows are left to it too, so a frozen Redis costs the request one timeout, not one per job.
            log.warning("jobs %s left to the relay: %s: %s", row_ids, type(exc).__name__, exc)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    # A rollback of the outermost transaction drops the rows, so nothing must be handed over; a savepoint's (or a
    # failed flush's inner transaction, e.g. a duplicate job key) does not.
    if previous_transaction.parent is None:
        session.info.pop(_NEW_ROWS_KEY, None)
