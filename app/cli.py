"""The `micromall` command line: the Flask CLI of create_app, with the operator's commands (API.md)."""
from __future__ import annotations

import sys
from urllib.parse import urlparse

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.config import ConfigError, settings_table
from app.extensions import db


def _create_app_or_exit() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"micromall: {line}", err=True)
        sys.exit(2)


def main() -> None:
    FlaskGroup(create_app=_create_app_or_exit, help="micromall: WeChat front desk for offline shops.").main(
        prog_name="micromall")


def register_commands(app: Flask) -> None:
    from app.cli_merchant import catalog_cli, seed_demo_command, stock_cli, store_cli
    from app.demo import demo

    for command in (serve, sandbox, worker, cron, reconcile, show_config, check_config, seed_demo_command,
                    demo):
        app.cli.add_command(command)
    for group in (stock_cli, store_cli, catalog_cli):
        app.cli.add_command(group)
    from app.cli_staff import staff_cli

    app.cli.add_command(staff_cli)


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
    app = current_app._get_current_object()
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
    """Without Redis there is no worker: the relay loop runs the periodic jobs and retries in-process."""
    from app.jobs_relay import start_thread

    start_thread(app)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5055, type=int)
@with_appcontext
def sandbox(host: str, port: int) -> None:
    """Run the WeChat sandbox as its own server, with this app's WeChat settings."""
    from app.sandbox_mount import sandbox_settings
    from wechat_sandbox.__main__ import run

    click.echo(f"WeChat sandbox on http://{host}:{port} (set WECHAT_API_BASE_URL and WECHATPAY_API_BASE_URL to it)")
    run(sandbox_settings(current_app.config), host, port)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--no-cron", is_flag=True, help="Do not run the relay and periodic jobs loop in this process.")
@with_appcontext
def worker(burst: bool, no_cron: bool) -> None:
    """An RQ worker inside the app context, with the outbox relay and periodic jobs loop on a thread."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from app.jobs import QUEUE_NAME, queue
    from app.jobs_relay import start_thread

    queue()  # fails clearly without REDIS_URL
    # The worker's own connection: RQ lengthens its socket timeout for the blocking dequeue, and the relay thread
    # must keep the app's short one (a frozen Redis must not hold it for minutes).
    q = Queue(QUEUE_NAME, connection=Redis.from_url(current_app.config["REDIS_URL"]))
    if not no_cron and not burst:
        start_thread(current_app._get_current_object())
    # SimpleWorker runs jobs in this process, inside this app context: no fork, and the engine's pool is not
    # shared with a child. Each job still gets its own app context and session (app.jobs.run_outbox_job).
    # Retries and orphaned jobs are the outbox's (the relay), so RQ's scheduler child is not needed. When Redis
    # fails the worker exits and its supervisor (systemd, Restart=always) starts it again.
    # Its registries are cleaned every 30 s (RQ's default: 10 min), so an abandoned RQ job is noticed quickly.
    SimpleWorker([q], connection=q.connection, maintenance_interval=30).work(burst=burst, with_scheduler=False)


@click.command("cron")
@with_appcontext
def cron() -> None:
    """The outbox relay and the periodic jobs (expiry, reconciliation, sweeps) alone; survives Redis and database
    outages (it retries with a backoff)."""
    from app.jobs_relay import run_forever

    run_forever(current_app._get_current_object())


@click.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Run every sweep once now: payments pending at WeChat Pay, overdue orders, refunds, unclosed WeChat orders,
    stuck messages, shipping reports. Prints what each found."""
    from app.sweeps import run_all_once

    for name, found in run_all_once().items():
        click.echo(f"{name}: {found}")


@click.command("config")
@with_appcontext
def show_config() -> None:
    """Every setting, its meaning, and its value here (secrets masked)."""
    for name, meaning, _default in settings_table():
        value = current_app.config.get(name)
        if value and any(word in name for word in ("SECRET", "KEY", "TOKEN")) and not name.endswith("_PATH") \
                and name != "WECHATPAY_PUBLIC_KEY_ID":
            value = "****"
        click.echo(f"{name}={value if value is not None else ''}    # {meaning}")


@click.command("check-config")
@with_appcontext
def check_config() -> None:
    """Check a production environment: keys, database, Redis, HTTPS URLs. Exits 1 if anything is wrong."""
    from app.checks import run_checks

    checks = run_checks(current_app._get_current_object())
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)
