"""The project's app as the bench serves it (`bench.counted_app:app`): `app:create_app()` plus a count of the SQL
statements each request sends, so the table can print statements per request per scenario.

The count is an SQLAlchemy `before_cursor_execute` listener on the app's engine (a counter per thread, so gunicorn's
threads do not mix) and a WSGI wrapper that records (end time, statements) for every request. Each worker writes its
records to `bench/results/work/sql-<pid>.json` when it exits (gunicorn ends a worker with sys.exit, so atexit runs);
the bench reads them after stopping that gunicorn and averages over each scenario's time window. Cost: one Python
call per statement and a list append per request, a few microseconds, well under 1% of any path measured here.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
import time
from array import array

from sqlalchemy import event

from app import create_app
from app.extensions import db

_local = threading.local()
_ends = array("d")  # time.time() at the end of each request
_statements = array("l")  # statements the request sent
_lock = threading.Lock()

app = create_app()
with app.app_context():
    engine = db.engine


@event.listens_for(engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany) -> None:
    _local.statements = getattr(_local, "statements", 0) + 1


_inner = app.wsgi_app


def _counted(environ, start_response):
    _local.statements = 0
    try:
        return _inner(environ, start_response)
    finally:
        with _lock:
            _ends.append(time.time())
            _statements.append(_local.statements)


app.wsgi_app = _counted  # type: ignore[method-assign]


@atexit.register
def _dump() -> None:
    folder = os.environ.get("BENCH_SQL_DIR")
    if folder:
        with open(os.path.join(folder, f"sql-{os.getpid()}.json"), "w") as out:
            json.dump({"ends": list(_ends), "statements": list(_statements)}, out)
