"""The unit of work: what a request or a job changes is committed once, at its end, by the view, the job or the CLI
command that owns it; services only flush, so one service can run inside another's unit without committing the
caller's changes. tests/app/test_unit_of_work.py holds every service module to this.

The few places where a unit has to commit or roll back before its end do it through a helper named here, never a
bare `commit()` or `rollback()` in a service:

- `commit_before_calling_wechat()`: before calling WeChat (or WeChat Pay) over the network, what was done so far is
  committed, so that no transaction and no row lock stays open across an HTTP call that can take seconds (DESIGN:
  locks short, never across a call to WeChat). The outcome of the call is then recorded in a new transaction, which
  the request or job commits as usual.
- `commit_keeping_loaded()`: the unit's own commit, at its end, for a view whose answer is rendered after it from
  the rows just written (the handover).
- `record_after_rollback()`: a unit that fails still keeps its record of the failure (a failed pickup attempt, a
  job to ask WeChat again): its work is rolled back and the record committed alone, before the error is raised
  (the error answer rolls back whatever is left).
- `read_again_after_losing_a_race()`: a concurrent transaction won a race on a row this unit was changing; the
  unit starts over in a fresh transaction, which sees what the winner committed.
- `item_unit()`: a periodic job that works through many items commits each one on its own, so one item that fails
  neither undoes nor holds up the others.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from app.extensions import db

log = logging.getLogger(__name__)


def commit_before_calling_wechat() -> None:
    """Commit the work so far because the next step calls WeChat: nothing of ours stays locked meanwhile. The
    caller's changes up to here are final, whatever WeChat answers."""
    db.session.commit()


def commit_keeping_loaded() -> None:
    """The unit's commit at its end, leaving what the session loaded as it is instead of expired: for a view that
    renders its answer after the commit from the rows this transaction just read or wrote (expiring them would only
    make the answer read each again). Nothing changes after it: the request ends."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


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
