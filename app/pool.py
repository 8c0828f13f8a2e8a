"""The MariaDB connection pool without the round trips a request does not need (bench/per_request.py, S1).

A request that read one row paid four round trips to MariaDB: the checkout ping (`pool_pre_ping`), its SELECT,
the session's ROLLBACK when it ended, and a second ROLLBACK when the connection went back to the pool (SQLAlchemy
resets a returned connection unless the Connection itself ended the transaction; the Session ends it first, then
closes the connection). Each costs the worker 50-150 µs of CPU (the loopback send is charged to the sender), more
than the SELECT's own Python. Now:

- **Ping only a connection that sat idle** (IDLE_PING_S and more since it was checked in). A pool under load hands
  out connections used milliseconds ago, which a restart cannot have silently killed without the next statement
  saying so: that statement fails with a disconnect error, SQLAlchemy invalidates the whole pool, and the request
  answers 503 with Retry-After (app/errors.py), as it would had the database died mid-request. A connection that
  was idle (a quiet node, the night) is pinged as before, and replaced when the ping fails.
- **No second ROLLBACK.** The pool's own reset-on-return is replaced by a `reset` listener that skips it when the
  transaction on this checkout was already ended by a COMMIT or ROLLBACK through SQLAlchemy (its `commit` and
  `rollback` events) with no statement since (`begin`) and no driver error (`handle_error`). Any other way back to
  the pool (raw DBAPI use, a failed request, an error in the ROLLBACK itself) still gets the ROLLBACK. (The driver's
  SERVER_STATUS_IN_TRANS flag cannot tell: MariaDB leaves it clear while a read-only transaction holds its
  REPEATABLE READ snapshot, which a skipped ROLLBACK would hand to the next request.)
"""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_PING_S = 1.0
_CHECKED_IN = "micromall_checked_in_at"
_ENDED = "micromall_transaction_ended"


def engine_options() -> dict[str, Any]:
    """What `_engine_options` adds for MariaDB: no pre-ping and no automatic reset (the listeners below do both);
    LIFO, so under light load the same few connections stay warm and the rest idle (and get pinged)."""
    return {"pool_pre_ping": False, "pool_reset_on_return": None, "pool_use_lifo": True}


def install(engine: Engine) -> None:
    if engine.dialect.name != "mysql":
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        record.info[_ENDED] = False  # nothing ended on this checkout yet (raw DBAPI use never says so)
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < IDLE_PING_S:
            return  # new (just connected) or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise DisconnectionError(f"idle connection failed its ping: {type(exc).__name__}") from exc

    def _mark(conn, ended: bool) -> None:
        # An invalidated connection (the database froze or died mid-request) has no .info to mark: reading it raises
        # PendingRollbackError, which would turn the session's last ROLLBACK into a 500. It is discarded, not reset.
        if conn is not None and not conn.closed and not conn.invalidated:
            conn.info[_ENDED] = ended

    @event.listens_for(engine, "begin")
    def _transaction_began(conn) -> None:
        _mark(conn, False)

    @event.listens_for(engine, "commit")
    def _committing(conn) -> None:
        _mark(conn, True)

    @event.listens_for(engine, "rollback")
    def _rolling_back(conn) -> None:
        _mark(conn, True)

    @event.listens_for(engine, "handle_error")
    def _failed(context) -> None:
        _mark(context.connection, False)  # the COMMIT/ROLLBACK (or whatever) failed: reset on return as always

    @event.listens_for(engine, "reset")
    def _rollback_unless_ended(dbapi_connection, record, reset_state) -> None:
        ended = record.info.pop(_ENDED, False) if record is not None else False
        if reset_state.terminate_only or not reset_state.asyncio_safe:
            return  # the connection is being discarded: nothing to reset
        if reset_state.transaction_was_reset or ended:
            return
        dialect.do_rollback(dbapi_connection)
