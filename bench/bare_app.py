"""C0, the ceiling every ratio is taken against: a bare Flask app whose one route answers {"status": "ok"}, served
by the same gunicorn settings as the project (`gunicorn -c deploy/gunicorn.conf.py bench.bare_app:app`). What the
project's paths cost beyond it is the cost of our own code."""
from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
