"""HTTP adapter for the official account: the callback WeChat calls, its answers, and the `micromall oa` commands."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from official_account import dedup, replay
    from official_account.cli import oa_cli
    from official_account.views import bp

    dedup.init_app(app)
    replay.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(oa_cli)
