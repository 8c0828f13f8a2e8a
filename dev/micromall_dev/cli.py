"""The development commands: `micromall serve` (migrations, demo data, sandbox and jobs in one process) and
`micromall sandbox` (the WeChat sandbox as its own server). Production runs gunicorn and `micromall worker`."""
from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db


def prepare_database() -> None:
    """Apply migrations; on an empty database, add the demo data (development's first run)."""
    from flask_migrate import upgrade

    from app.seed import database_is_empty, seed_demo

    upgrade()
    if current_app.config["MICROMALL_ENV"] != "production" and database_is_empty():
        counts = seed_demo()
        db.session.commit()
        click.echo(f"Seeded demo data: {counts}")


@click.command("serve")
@click.option("--no-prepare", is_flag=True, help="Skip migrations and demo data.")
@with_appcontext
def serve(no_prepare: bool) -> None:
    """Development server on PUBLIC_BASE_URL's host and port, with the sandbox and jobs in-process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not no_prepare:
        prepare_database()
    url = urlparse(app.config["PUBLIC_BASE_URL"])
    host, port = url.hostname or "127.0.0.1", url.port or 5000
    if app.extensions.get("micromall_redis") is None:
        _start_periodic_thread(app)
    click.echo(f"micromall listening on http://{host}:{port}  (API: http://{host}:{port}/api/v1, "
               f"WeChat sandbox: {'in-process at /__sandbox__' if app.config['WECHAT_SANDBOX'] else 'off'})")
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


def _start_periodic_thread(app: Flask) -> None:
    """Without Redis there is no RQ scheduler: run the periodic jobs on a thread (development only)."""
    from app.jobs import execute
    from app.schedule import PERIODIC

    def loop() -> None:
        last: dict[str, float] = {}
        while True:
            for target, every in PERIODIC:
                if time.monotonic() - last.get(target, -every) >= every:
                    last[target] = time.monotonic()
                    with app.app_context():
                        try:
                            execute(target)
                        except Exception:
                            app.logger.exception("periodic job %s failed", target)
            time.sleep(1)

    threading.Thread(target=loop, name="periodic", daemon=True).start()


@click.command("sandbox")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5055, type=int)
@with_appcontext
def sandbox(host: str, port: int) -> None:
    """Run the WeChat sandbox as its own server, with this app's WeChat settings."""
    from micromall_dev.sandbox_mount import sandbox_settings
    from wechat_sandbox.__main__ import run

    click.echo(f"WeChat sandbox on http://{host}:{port} (set WECHAT_API_BASE_URL and WECHATPAY_API_BASE_URL to it)")
    run(sandbox_settings(current_app.config), host, port)
