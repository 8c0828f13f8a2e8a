"""The unit of work: what a request or a job changes is committed once, at its end, in one place; services only
flush, so one service can run inside another's unit without committing the caller's changes.
tests/app/test_unit_of_work.py holds every service module and every view to this.

- A request: `request_unit()` wraps every view of the app (the app factory applies it, `install`, once every
  blueprint is registered). The view runs; when it returns an answer below 400 the unit is committed, inside the
  view's call, so a commit that fails is an error of the view like any other (a database away: 503 with
  Retry-After, app/errors.py; WeChat Pay's FAIL shape on its notify endpoints). A view that raises, or returns a
  4xx or 5xx, commits nothing: the error answer and the end of the request roll back. A request that never opened
  a session (/healthz, static files) commits nothing and pays one dictionary lookup. So a view renders its answer
  from what is in the session, before the commit: nothing is expired and read back only to be printed.
- A job (`@jobs.job`) or a CLI command commits at its own end; a periodic job commits each item (`item_unit`).

The few places where a unit has to commit or roll back before its end do it through a helper named here, never a
bare `commit()` or `rollback()` in a service, and never a bare `commit()` in a view:

- `commit_before_calling_wechat()`: before calling WeChat (or WeChat Pay) over the network, what was done so far is
  committed, so that no transaction and no row lock stays open across an HTTP call that can take seconds (DESIGN:
  locks short, never across a call to WeChat). The outcome of the call is then recorded in a new transaction, which
  the request or job commits as usual.
- `keep_despite_refusal()`: a view that answers 4xx on purpose and yet keeps a record of what it was asked (a
  failed console login in the audit log, a WeChat Pay notification rejected, so that its repeat is answered alike).
- `commit_before_recording_elsewhere()`: the next step records outside the database that the work is done (the
  official account's reply kept in Redis for WeChat's retries): the record must never outlive work that a failed
  commit lost.
- `commit_so_a_lock_comes_first()`: the next service must open its transaction with a row lock, so that what it
  reads after the lock sees everything committed before (a payout: MariaDB fixes a snapshot at the first plain
  read).
- `record_after_rollback()`: a unit that fails still keeps its record of the failure (a failed pickup attempt, a
  job to ask WeChat again): its work is rolled back and the record committed alone, before the error is raised
  (the error answer rolls back whatever is left).
- `read_again_after_losing_a_race()`: a concurrent transaction won a race on a row this unit was changing; the
  unit starts over in a fresh transaction, which sees what the winner committed.
- `item_unit()`: a periodic job that works through many items commits each one on its own, so one item that fails
  neither undoes nor holds up the others.

One helper changes when, not whether, a unit's work is done:

- `lock_last(work)`: the statements that lock the unit's hottest rows (a store's stock in a rush) run last, after
  the view has rendered its answer, right before the commit: those rows stay locked for two round trips, not for
  the answer's rendering too (with many threads on few cores, waiting for the interpreter lock meanwhile is the
  longest part). When `work` raises (a line short of stock), the unit fails like a view that raised: its error
  answer, nothing committed. Outside a request unit (a job, a CLI command, a test calling a service) `work` runs at
  once.
"""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)


def commit_before_calling_wechat() -> None:
    """Commit the work so far because the next step calls WeChat: nothing of ours stays locked meanwhile. The
    caller's changes up to here are final, whatever WeChat answers."""
    db.session.commit()


_UNIT = "_micromall_request_unit"
_LAST = "_micromall_lock_last"  # on flask.g: the unit's work to run right before its commit


def lock_last(work: Callable[[], None]) -> None:
    """Run `work` (statements taking hot row locks) at the end of the request's unit, right before its commit, or
    now outside one."""
    pending = getattr(g, _LAST, None) if has_request_context() else None
    if pending is None:
        work()
    else:
        pending.append(work)


def request_unit(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view as the request's unit of work: its answer below 400 commits what the request did; an exception or a
    4xx/5xx answer commits nothing (the error answer and the request's end roll back). The commit runs inside the
    view's call, so its failure goes through Flask's error handlers as the view's own would."""
    @functools.wraps(view)
    def unit(*args: Any, **kwargs: Any) -> Any:
        last: list[Callable[[], None]] = []
        setattr(g, _LAST, last)
        answer = view(*args, **kwargs)
        if not db.session.registry.has():
            return answer  # the request never opened a session: nothing to commit (/healthz, static files)
        response = current_app.make_response(answer)
        if response.status_code < 400:
            for work in last:  # lock_last: the hot rows, locked only from here to the commit
                work()
            session = db.session()
            # No transaction and nothing pending (a named commit already ended it, or nothing was read): an empty
            # commit would only cost its events (about 20 µs), e.g. on the official account's answers.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                db.session.commit()
        return response

    setattr(unit, _UNIT, True)
    return unit


def install(app: Flask) -> None:
    """Make every view of `app` a request unit (the app factory calls this once every blueprint is registered; a
    view added later needs another call). A view already wrapped is left as it is."""
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, _UNIT, False):
            # An async view is made sync first, as Flask would at dispatch: the wrapper itself is sync.
            app.view_functions[endpoint] = request_unit(app.ensure_sync(view))


def keep_despite_refusal() -> None:
    """Commit now because the view answers 4xx next and what it recorded must outlive that answer (the request's
    unit commits nothing of a refusal): a failed login's audit entry, a rejected notification's record."""
    db.session.commit()


def commit_before_recording_elsewhere() -> None:
    """Commit now because the next step records, outside the database, that this work is done (a reply kept in
    Redis that WeChat's retries are answered with): a commit failing after it would leave that record standing for
    work that was lost. A failure here is the view's error, before anything was recorded."""
    if db.session.registry.has():  # else nothing was read or written (the official account's help answers)
        db.session.commit()


def commit_so_a_lock_comes_first(only_if_read: bool = False) -> None:
    """Commit what the request did so far (its reads of the caller) so that the next statement, a row lock, opens
    a new transaction: what is read after the lock then sees every transaction committed before it (MariaDB fixes a
    snapshot at a transaction's first plain read, not at a locking one). With `only_if_read`, only when a statement
    has already opened the unit's transaction on a connection (else the lock comes first anyway, and a commit
    would expire what the session holds for nothing)."""
    if only_if_read and not db.session.info.get(_ON_CONNECTION):
        return
    db.session.commit()


_ON_CONNECTION = "micromall_transaction_on_connection"


@event.listens_for(Session, "after_begin")
def _began_on_a_connection(session: Session, transaction: Any, connection: Any) -> None:
    session.info[_ON_CONNECTION] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the root transaction, not a SAVEPOINT
        session.info.pop(_ON_CONNECTION, None)


@contextmanager
def record_after_rollback() -> Iterator[None]:
    """The unit failed and is about to raise: roll its work back, then commit what the block adds, alone, so the
    record of the failure outlives the error answer's rollback. The whole unit is undone, the caller's part too
    (an error ends the unit), and nothing of it is committed.

        with record_after_rollback():
            db.session.add(PickupAttempt(..., outcome="already_redeemed"))
        raise error
    """
    db.session.rollback()
    yield
    db.session.commit()


def read_again_after_losing_a_race() -> None:
    """A concurrent transaction changed a row this unit was changing (a guarded UPDATE found it changed, a unique
    key it inserted was taken): roll back and let the unit read again in a fresh transaction, which sees what the
    winner committed (under REPEATABLE READ the old snapshot predates it). Everything the unit did so far is
    undone, so only a service that does its writes first in its unit (the handover, a notification's claim, a
    placement) starts over with this."""
    db.session.rollback()


@contextmanager
def item_unit(what: str, keep_going: bool = False) -> Iterator[None]:
    """One item of a periodic job as a unit of its own: committed when the block ends. When the block raises, the
    item's work is rolled back; with `keep_going` the failure is logged (naming `what`) and the job goes on with
    the next item (which a later run retries), else the error propagates and ends the job.

        for order_id in due_ids:
            with item_unit(f"no-show refund of order {order_id}", keep_going=True):
                refunded += refund_no_show(order_id)
    """
    try:
        yield
    except Exception:
        db.session.rollback()
        if not keep_going:
            raise
        log.exception("%s failed", what)
    else:
        db.session.commit()
