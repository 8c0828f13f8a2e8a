"""S3's second ceiling: a WSGI app whose one endpoint does only what the notify endpoint must do before any
database work — verify the WeChat Pay signature and decrypt the resource with payments.wechatpay_v3 — served by the
same gunicorn settings. `gunicorn -c deploy/gunicorn.conf.py bench.verify_app:app`.

The client is built from the app's own configuration (same env, same instance folder, so the same keys), once per
worker.
"""
from __future__ import annotations

import os

from werkzeug.datastructures import EnvironHeaders

from app.config import load_config
from app.devtools import dev_tools
from payments.gateway import build_client

def _wechatpay_client():
    instance = os.environ["MICROMALL_INSTANCE_PATH"]
    cfg = load_config(None, None, instance_path=instance)
    tools = dev_tools()  # the bench runs on the sandbox: its development pay keys, as the app's create_app fills them
    assert tools is not None, "the bench needs the development tools (pip install -e ./dev)"
    tools.prepare_config(cfg, instance)
    return build_client(cfg)


# Built when the worker boots, not on its first request: the bench waits for every worker to boot before it
# measures, so key loading stays out of the figures (the real app's workers have built theirs during /pay).
_client = _wechatpay_client()


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/healthz":  # the pid, so the bench can wait until every worker is up
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    try:
        _client.parse_notification(EnvironHeaders(environ), body)
    except Exception as exc:  # any refusal is a wrong answer for this bench: visible as a 400 in the counts
        message = type(exc).__name__.encode()
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
        return [message]
    start_response("204 No Content", [])
    return [b""]
