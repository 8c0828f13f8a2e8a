"""Request bodies without a Content-Length (chunked) are held to MAX_REQUEST_BYTES like any other.

Werkzeug caps a chunked body at MAX_CONTENT_LENGTH by silently stopping there, so an oversized chunked body reached
the views cut short and answered 400 `invalid_request` (or an XML parse error). Reading it here, before any view,
turns "more than the cap" into the 413 `payload_too_large` that a body with a Content-Length gets.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge


def _refuse_oversized_chunked_body() -> None:
    # The method first: a plain comparison, where content_length parses a header (every GET stops here).
    if request.method in ("GET", "HEAD", "OPTIONS") or request.content_length is not None:
        return
    limit = request.max_content_length
    if limit is None:
        return
    data = request.get_data(cache=True)  # the stream stops at the cap; what it holds stays cached for the view
    if len(data) >= limit:
        # Werkzeug's capped stream raises 413 on a read past the cap; a body of exactly the cap is refused too
        # (one byte of slack is not worth a second code path).
        request.stream.read(1)
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    app.before_request(_refuse_oversized_chunked_body)
