"""Catalog imports from the console: the checked file is kept in console_imports, and a background job applies it
in one transaction (all or nothing), reporting its progress as it goes. Progress lives in Redis (shared by every
web process and worker) or, in development without Redis, in this process, where the jobs run too: it cannot go
through the database, whose import transaction is still open (and SQLite has one writer)."""
from __future__ import annotations

import io
import logging

from flask import current_app
from sqlalchemy import update

from app import jobs
from app.catalog.importer import ImportFailed, apply_rows, parse_rows
from app.errors import Conflict, NotFound
from app.extensions import db, redis_client
from app.models import ConsoleImport, utcnow

log = logging.getLogger(__name__)
PROGRESS_EVERY = 25
_KEY = "micromall:catalog-import:{}"


def _set_progress(import_id: int, done: int) -> None:
    redis = redis_client()
    if redis is not None:
        redis.set(_KEY.format(import_id), done, ex=86400)
    else:
        current_app.extensions.setdefault("micromall_import_progress", {})[import_id] = done


def progress(row: ConsoleImport) -> int:
    if row.status == "done":
        return row.total_rows
    redis = redis_client()
    value = redis.get(_KEY.format(row.id)) if redis is not None else \
        current_app.extensions.get("micromall_import_progress", {}).get(row.id)
    return int(value or 0)


def check(text: str, filename: str, user_id: int) -> tuple[ConsoleImport | None, list, list[str]]:
    """Parse the file; when every line is good, keep it for the import. (row or None, rows, problems). Flushes."""
    try:
        rows = parse_rows(io.StringIO(text, newline=""))
    except ImportFailed as failed:
        return None, [], failed.problems
    if not rows:
        return None, [], ["文件里没有数据行。"]
    record = ConsoleImport(user_id=user_id, filename=filename[:255], content=text, total_rows=len(rows),
                           status="previewed", message="", created_at=utcnow())
    db.session.add(record)
    db.session.flush()
    return record, rows, []


def queue_import(import_id: int, user_id: int) -> ConsoleImport:
    """previewed -> queued, once (a guarded UPDATE: a double click queues one job). Flushes; the job runs after the
    caller's commit."""
    row = db.session.get(ConsoleImport, import_id)
    if row is None or row.user_id != user_id:
        raise NotFound("导入不存在。")
    moved = db.session.execute(update(ConsoleImport).where(ConsoleImport.id == import_id,
                                                           ConsoleImport.status == "previewed")
                               .values(status="queued").execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict("这个文件已经导入或正在导入。", code="import_started")
    db.session.refresh(row)
    jobs.enqueue(run_import, import_id, job_id=f"catalog-import-{import_id}")
    return row


@jobs.job
def run_import(import_id: int) -> str:
    """Job: parse again (stores may have changed since the preview) and apply, in one transaction. Safe to run
    twice: only a queued import runs."""
    row = db.session.get(ConsoleImport, import_id)
    if row is None or row.status != "queued":
        return "nothing_to_do"
    try:
        rows = parse_rows(io.StringIO(row.content, newline=""))
    except ImportFailed as failed:
        row.status, row.message, row.finished_at = "failed", "\n".join(failed.problems)[:60000], utcnow()
        db.session.commit()
        return "failed"
    counter = {"done": 0}

    def step(_row) -> None:
        counter["done"] += 1
        if counter["done"] % PROGRESS_EVERY == 0:
            _set_progress(import_id, counter["done"])

    count = apply_rows(rows, step)
    row.status, row.message, row.finished_at = "done", f"{count}", utcnow()
    db.session.commit()
    _set_progress(import_id, count)
    return "done"
