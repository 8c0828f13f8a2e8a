"""One redaction point for every log record of the process (issue 11 finding 2).

wechatpy puts `secret=` and `access_token=` in its URLs, `requests` puts the URL in its exception text, the
development server logs every request line (the in-process sandbox's `js_code=` and `secret=` among them), and RQ
logs a failed job's traceback. Rather than trust each call site, a log record factory masks, as each record is
made and before any handler sees it, the message with its arguments, the exception text with its traceback, and
the stack: `secret`, `access_token`, `js_code`, `code`, `session_key`, `token`, `Authorization`, bearer tokens and
signatures, in query strings, JSON, Python reprs and headers; and any configured secret value wherever it appears.
"""
from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any

MASK = "***"
_NAMES = ("secret", "access_token", "js_code", "code", "session_key", "token", "signature", "msg_signature",
          "paysign", "sign", "authorization", "password", "apiv3_key", "wechatpay-signature")
_NAME = "|".join(re.escape(n) for n in sorted(_NAMES, key=len, reverse=True))
_PATTERNS = (
    # key=value in query strings and form bodies (not errcode=, whose "code" is part of a longer word)
    (re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_NAME})=(\"[^\"]*\"|[^&\s\"'<>,;)\]}}]*)"), rf"\1={MASK}"),
    # "key": "value" and 'key': 'value' in JSON and Python reprs
    (re.compile(rf"(?i)([\"'])({_NAME})\1(\s*:\s*)([\"'])(?:\\.|(?!\4).)*\4"), rf"\1\2\1\3\4{MASK}\4"),
    # Header: value (Authorization, Wechatpay-Signature)
    (re.compile(r"(?i)\b(authorization|wechatpay-signature)(\s*:\s*)(?![\"'])([^\r\n,}]+)"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)\b(bearer|WECHATPAY2-SHA256-RSA2048)\s+[^\s\"',}]+"), rf"\1 {MASK}"),
)
# Every pattern above needs one of these words in the text (each name holds one: js_code "code", paysign "sign"):
# a text without any of them, as most log messages are ("job done"), is left as it is after a few substring tests
# of its lower case (about 1 µs), instead of four substitutions (about 60 µs on a 200-character line here). A
# regular expression alternating the names costs as much as the substitutions.
_TRIGGERS = ("secret", "token", "code", "session_key", "sign", "authorization", "password", "apiv3_key", "bearer",
             "wechatpay2")
assert all(any(t in name for t in _TRIGGERS) for name in _NAMES)
_literals: set[str] = set()
_lock = threading.Lock()
_installed = False
MIN_LITERAL = 8  # shorter configured values would mask ordinary words


def redact(text: str) -> str:
    lowered = text.lower()
    if any(trigger in lowered for trigger in _TRIGGERS):
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
    for literal in _literals:
        if literal in text:
            text = text.replace(literal, MASK)
    return text


def remember_secrets(values: Iterable[Any]) -> None:
    """Configured secrets to mask wherever they appear, whatever the context."""
    with _lock:
        _literals.update(v for v in values if isinstance(v, str) and len(v) >= MIN_LITERAL)


def redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler reports it as logging always has
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)  # formatters use exc_text as it is once it is set
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Wrap the process's log record factory once; every logger (werkzeug, rq, requests, ours) goes through it."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
