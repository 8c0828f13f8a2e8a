"""One JSON log line per request, and a request id that follows the work into the jobs it enqueues.

What is logged is chosen, not dumped: the route template (never the raw path or query, which can carry codes), the
status, the duration, and who called (customer or staff id). Tokens, codes, phone numbers and secrets never are,
and whatever other loggers write (wechatpy, requests, RQ, the development server) is masked by app/redaction.py.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
from datetime import datetime, timezone

from flask import Flask, g, request
from sqlalchemy import inspect as sa_inspect

from app import redaction

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_log = logging.getLogger("micromall.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            # exc_text is the redacted traceback (app/redaction.py); formatted here only for a record made before
            # the redaction was installed.
            line["exc"] = record.exc_text or redaction.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def _direct_handler() -> logging.StreamHandler | None:
    """The handler the request line can be written to without a log record: when the only one that would see the
    record is the root's JSON stream handler that init_app installs (production, the development server), with
    no filters anywhere on the way. Else None (a test's caplog, an operator's own logging config): the record."""
    root = logging.getLogger()
    if request_log.handlers or request_log.filters or not request_log.propagate or len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if (type(handler) is not logging.StreamHandler or type(handler.formatter) is not JsonFormatter
            or handler.filters or root.filters or handler.level > logging.INFO):
        return None
    return handler


def _write_request_line(handler: logging.StreamHandler, request_id: str, fields: dict) -> bool:
    """The request line as JsonFormatter would print its record, formatted once and written under the handler's
    lock: a record's making and dispatch were most of the line's cost, on every request (bench/per_request.py).
    Not through the redaction: it holds only the fields chosen above (no raw path, query, header or body), none
    of which can carry a secret. False if the stream refused it."""
    line = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": "info",
            "logger": request_log.name, "msg": "request", "request_id": request_id, **fields}
    text = json.dumps(line, ensure_ascii=False) + handler.terminator
    handler.acquire()
    try:
        handler.stream.write(text)
        handler.stream.flush()
    except Exception:  # noqa: BLE001 - the record path below reports it as logging does
        return False
    finally:
        handler.release()
    return True


def current_request_id() -> str | None:
    return request_id_var.get()


def _configured_secrets(config) -> list[str]:
    from urllib.parse import urlsplit

    values = [value for name, value in config.items() if isinstance(name, str) and isinstance(value, str)
              and any(word in name for word in ("SECRET", "KEY", "TOKEN", "PASSWORD"))
              and not name.endswith(("_PATH", "_DIR", "_ID", "_URL"))]
    for name in ("DATABASE_URL", "REDIS_URL"):
        try:
            values.append(urlsplit(config.get(name) or "").password or "")
        except ValueError:
            pass
    return values


def init_app(app: Flask) -> None:
    # No formatter of ours prints the thread or the process: a record need not look them up (each record made,
    # the request line among them, saves os.getpid, threading.current_thread and multiprocessing's lookup).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    redaction.install()
    redaction.remember_secrets(_configured_secrets(app.config))
    if not app.testing and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)

    @app.before_request
    def _start() -> None:
        # Read from the environ and g's own object: each `request.`/`g.` access is a context-local lookup, and this
        # runs on every request (bench/per_request.py).
        state = g._get_current_object()  # type: ignore[attr-defined]
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        state.request_id = request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        state.request_token = request_id_var.set(request_id)
        state.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        state = g._get_current_object()  # type: ignore[attr-defined]
        request_id = getattr(state, "request_id", None)
        if request_id is None:
            return response
        response.headers["X-Request-Id"] = request_id
        if not request_log.isEnabledFor(logging.INFO):
            return response
        current = request._get_current_object()  # type: ignore[attr-defined]
        rule = current.url_rule
        fields = {"method": current.method, "route": rule.rule if rule else "(unmatched)",
                  "status": response.status_code,
                  "duration_ms": round((time.perf_counter() - state.request_started) * 1000, 2),
                  "remote_addr": current.remote_addr}
        # The ids from the identity map, never an attribute: after the commit that would be one more SELECT (and a
        # lost log line plus a bare 500 when the database just failed).
        for name, obj in (("customer_id", getattr(state, "customer", None)),
                          ("staff_id", getattr(state, "staff_seat", None))):
            identity = sa_inspect(obj).identity if obj is not None else None
            if identity:
                fields[name] = identity[0]
        handler = _direct_handler()
        if handler is not None and _write_request_line(handler, request_id, fields):
            return response
        # makeRecord + handle is what Logger.info does, without findCaller's walk up the stack (no formatter here
        # prints the caller); the record still comes from the process's record factory, so redaction applies.
        record = request_log.makeRecord(request_log.name, logging.INFO, __file__, 0, "request", (), None,
                                        extra={"fields": fields, "request_id": request_id})
        request_log.handle(record)
        return response

    @app.teardown_request
    def _reset(_exc) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            request_id_var.reset(token)
