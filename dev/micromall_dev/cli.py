"""The development commands: `micromall serve` (migrations, demo data, sandbox and jobs in one process) and
`micromall sandbox` (the WeChat sandbox as its own server). Production runs gunicorn and `micromall worker`."""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db

LOOPBACK = "127.0.0.1"


def prepare_database() -> None:
    """Apply migrations; on an empty database, add the demo data (development's first run)."""
    from flask_migrate import upgrade

    from app.seed import database_is_empty, seed_demo

    upgrade()
    if current_app.config["MICROMALL_ENV"] != "production" and database_is_empty():
        counts = seed_demo()
        from app.operators.accounts import seed_demo_owner

        seed_demo_owner(current_app.config["MICROMALL_ENV"])  # the console's demo login, development only
        db.session.commit()
        click.echo(f"Seeded demo data: {counts}")


@click.command("serve")
@click.option("--host", default=LOOPBACK, show_default=True,
              help="Address to listen on; 0.0.0.0 makes the development server reachable from the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: PUBLIC_BASE_URL's, else 5000).")
@click.option("--no-prepare", is_flag=True, help="Skip migrations and demo data.")
@with_appcontext
def serve(host: str, port: int | None, no_prepare: bool) -> None:
    """Development server on 127.0.0.1 (unless --host), with the sandbox and jobs in-process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    port = port or urlparse(app.config["PUBLIC_BASE_URL"]).port or 5000
    _refuse_busy_port(host, port)
    own_url = f"http://{LOOPBACK if host in ('0.0.0.0', '::') else host}:{port}"
    if own_url != app.config["PUBLIC_BASE_URL"].rstrip("/") and not os.environ.get("PUBLIC_BASE_URL"):
        # The in-process sandbox is reached, and sends its payment notifications, at PUBLIC_BASE_URL: without one
        # set by the operator it must be where this server listens, so the app is built again with it.
        from app import create_app

        os.environ["PUBLIC_BASE_URL"] = own_url
        app = create_app()
    elif own_url != app.config["PUBLIC_BASE_URL"].rstrip("/"):
        click.echo(f"note: PUBLIC_BASE_URL is {app.config['PUBLIC_BASE_URL']}: WeChat (and the sandbox) call there, "
                   f"not {own_url}", err=True)
    with app.app_context():
        if not no_prepare:
            prepare_database()
        if app.extensions.get("micromall_redis") is None:
            _start_periodic_thread(app)
    sandbox = "in-process at /__sandbox__" if "wechat_sandbox" in app.extensions else (
        f"at {app.config['WECHAT_API_BASE_URL']}" if app.config["WECHAT_SANDBOX"] else "off")
    click.echo(f"micromall listening on http://{host}:{port}  (API: http://{host}:{port}/api/v1, "
               f"WeChat sandbox: {sandbox})")
    from app.operators.accounts import demo_owner_login

    with app.app_context():
        demo = demo_owner_login(app.config["MICROMALL_ENV"])
    click.echo(f"merchant console: http://{host}:{port}/console/"
               + (f"  (demo owner: {demo[0]} / {demo[1]})" if demo else ""))
    if host not in (LOOPBACK, "localhost", "::1"):
        click.echo(f"warning: the development server on {host} is reachable from other machines", err=True)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


def _refuse_busy_port(host: str, port: int) -> None:
    """Say which option to use instead of werkzeug's "use a different port" (which names no way to)."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror}): "
                                   f"choose another port with `micromall serve --port {port + 1}`") from None


def _start_periodic_thread(app: Flask) -> None:
    """Without Redis there is no worker: the outbox relay loop runs the periodic jobs and retries in-process."""
    from app.jobs_relay import start_thread

    start_thread(app)


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
