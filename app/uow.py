"""The unit of work: what a request or a job changes is committed once, at its end, by the view or the job that
owns it; services only flush, so one service can run inside another's unit without committing the caller's changes.

One exception has a name here instead of a bare commit in the middle of a service: before calling WeChat (or
WeChat Pay) over the network, what was done so far is committed, so that no transaction and no row lock stays open
across an HTTP call that can take seconds (DESIGN: locks short, never across a call to WeChat). The outcome of the
call is then recorded in a new transaction, which the request or job commits as usual.
"""
from __future__ import annotations

from app.extensions import db


def commit_before_calling_wechat() -> None:
    """Commit the work so far because the next step calls WeChat: nothing of ours stays locked meanwhile. The
    caller's changes up to here are final, whatever WeChat answers."""
    db.session.commit()
