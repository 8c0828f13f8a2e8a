"""The job outbox: jobs by function, a row in the causing transaction, atomic de-duplication that never blocks a job
after it failed, retries, orphans handed out again, and the relay catching up what the fast path missed."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app import jobs
from app.extensions import db
from app.jobs_relay import relay_due_rows
from app.models import OutboxJob, utcnow
from tests.conftest import sqlite_only

CALLS: list[tuple] = []


@jobs.job
def record(*args) -> None:
    CALLS.append(args)


@jobs.job
def explode(*args) -> None:
    CALLS.append(("explode", *args))
    raise RuntimeError("boom")


def unregistered() -> None:  # not a job
    pass


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def rows() -> list[OutboxJob]:
    db.session.rollback()
    return db.session.query(OutboxJob).order_by(OutboxJob.id).all()


def test_only_registered_functions_with_json_arguments_are_jobs(app_ctx):
    with pytest.raises(jobs.JobNotRegistered):
        jobs.enqueue(unregistered)
    with pytest.raises(jobs.JobNotRegistered):
        jobs.enqueue("os:system", "true")
    with pytest.raises(TypeError):
        jobs.enqueue(record, object())
    assert jobs.target_of(record) == "tests.app.test_outbox:record"


@sqlite_only
def test_the_row_is_written_with_the_change_and_dropped_with_a_rollback(app_ctx):
    jobs.enqueue(record, 1)
    db.session.rollback()
    assert rows() == [] and CALLS == []
    jobs.enqueue(record, 2, "x")
    db.session.commit()
    assert CALLS == [(2, "x")]
    [row] = rows()
    assert (row.status, row.attempts, row.dedup_key) == ("done", 1, None)


@sqlite_only
def test_a_released_savepoint_is_not_the_commit(app_ctx):
    jobs.enqueue(record, "first", job_id="a")  # its own savepoint, released at once
    with db.session.begin_nested():
        jobs.enqueue(record, "second")
    assert CALLS == []  # SQLAlchemy sends after_commit for a savepoint too: nothing may run before the commit
    db.session.commit()
    assert sorted(CALLS) == [("first",), ("second",)]


@sqlite_only
def test_a_job_key_deduplicates_while_it_waits_and_is_released_when_it_ends(app_ctx, monkeypatch):
    monkeypatch.setattr(jobs, "hand_over", lambda app, row_id: None)  # the fast path is lost
    assert jobs.enqueue(record, 1, job_id="k") is not None
    assert jobs.enqueue(record, 1, job_id="k") is None  # the same transaction
    db.session.commit()
    assert jobs.enqueue(record, 1, job_id="k") is None  # a later one, while the first still waits
    db.session.commit()
    assert len(rows()) == 1
    assert jobs.run_outbox_job(rows()[0].id) == "done"
    assert jobs.run_outbox_job(rows()[0].id) == "nothing_to_do"  # a second hand-over of the same row
    assert CALLS == [(1,)]
    assert jobs.enqueue(record, 1, job_id="k") is not None  # done: the key is free again
    db.session.commit()


def test_jobs_enqueued_together_keep_their_keys_and_only_the_inserted_are_handed_over(app_ctx, monkeypatch):
    handed: list[int] = []
    monkeypatch.setattr(jobs, "_hand_over_in_one_pipeline", lambda session, new_rows: False)  # Redis or not
    monkeypatch.setattr(jobs, "hand_over_all", lambda app, row_ids: handed.extend(row_ids))
    waiting = jobs.enqueue(record, 0, job_id="b")
    db.session.commit()
    handed.clear()
    ids = jobs.enqueue_all([jobs.Job(record, (1,), "a"), jobs.Job(record, (2,), "b"), jobs.Job(record, (3,), "a"),
                            jobs.Job(record, (4,), "c", (30,))])
    assert ids[1] is None and ids[2] is None and None not in (ids[0], ids[3])  # "b" waits; "a" came twice
    db.session.commit()
    assert handed == [ids[0], ids[3]]
    assert [(r.id, r.dedup_key, r.args, r.retries) for r in rows()] == [
        (waiting, "b", "[0]", "[]"), (ids[0], "a", "[1]", "[]"), (ids[3], "c", "[4]", "[30]")]  # "b" untouched
    jobs.enqueue_all([jobs.Job(record, (5,), "d"), jobs.Job(record, (6,), "e")])
    db.session.rollback()
    assert handed == [ids[0], ids[3]] and len(rows()) == 3  # rolled back with the transaction, never handed over


@sqlite_only
def test_a_failed_job_is_retried_on_its_schedule_then_failed_and_never_blocks_the_next(app_ctx, monkeypatch):
    monkeypatch.setattr(jobs, "hand_over", lambda app, row_id: None)
    jobs.enqueue(explode, 7, job_id="x", retries=(30,))
    db.session.commit()
    row_id = rows()[0].id
    assert jobs.run_outbox_job(row_id) == "retry"
    [row] = rows()
    assert row.status == "pending" and row.dedup_key == "x" and row.available_at > utcnow() + timedelta(seconds=20)
    assert "boom" in row.last_error
    assert jobs.run_outbox_job(row_id) == "failed"
    [row] = rows()
    assert (row.status, row.dedup_key, row.attempts) == ("failed", None, 2)
    assert jobs.enqueue(explode, 7, job_id="x") is not None  # a failed job never blocks the next one


@sqlite_only
def test_the_relay_hands_over_what_the_fast_path_missed_and_what_a_dead_worker_left(app_ctx, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(jobs, "hand_over", lambda app, row_id: None)  # e.g. Redis down at the commit
        jobs.enqueue(record, "lost")
        jobs.enqueue(record, "orphan")
        db.session.commit()
    lost, orphan = rows()
    assert relay_due_rows(app_ctx) == 0  # not yet: the fast path may still be on its way
    db.session.execute(update(OutboxJob).values(available_at=utcnow() - timedelta(seconds=1)))
    db.session.execute(update(OutboxJob).where(OutboxJob.id == orphan.id).values(status="running", attempts=1))
    db.session.commit()
    assert relay_due_rows(app_ctx) == 2  # JOBS_EAGER: handed over = run here
    assert sorted(CALLS) == [("lost",), ("orphan",)]
    assert {r.status for r in rows()} == {"done"}
    assert relay_due_rows(app_ctx) == 0


def test_micromall_reconcile_runs_every_sweep_once(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output
    names = [line.split(":")[0] for line in result.output.splitlines()]
    assert names == ["reconcile_pending_payments", "expire_due_orders", "sweep_refunds", "sweep_unclosed_orders",
                     "sweep_stuck_notifications", "report_unreported_pickups"]

