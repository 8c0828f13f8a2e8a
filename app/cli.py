"""The `micromall` command line: the Flask CLI of create_app, with the operator's commands (API.md)."""
from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import FlaskGroup, with_appcontext

from app.config import ConfigError, mask_url_password, settings_table


def _create_app_or_exit() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"micromall: {line}", err=True)
        sys.exit(2)


class MicromallGroup(FlaskGroup):
    """Flask's command group with only micromall's commands: no `run`, `shell` or `routes`, no other package's
    `flask.commands` plugins, no `--app`/`--debug`/`--env-file`, and `--version` printing micromall's version."""

    def __init__(self, **extra: Any) -> None:
        version = click.Option(["--version"], is_flag=True, expose_value=False, is_eager=True,
                               callback=_print_version, help="Show micromall's version and exit.")
        super().__init__(create_app=_create_app_or_exit, add_default_commands=False, add_version_option=False,
                         params=[version], **extra)
        self.params = [p for p in self.params if p.name not in ("app", "debug", "env_file")]

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    click.echo(f"micromall {version('micromall')}")
    ctx.exit()


def main() -> None:
    MicromallGroup(help="micromall: WeChat front desk for offline shops.").main(prog_name="micromall")


def register_commands(app: Flask) -> None:
    from app.cli_merchant import catalog_cli, seed_demo_command, stock_cli, store_cli

    for command in (worker, cron, reconcile, show_config, check_config, seed_demo_command):
        app.cli.add_command(command)
    for group in (stock_cli, store_cli, catalog_cli):
        app.cli.add_command(group)
    from app.cli_staff import staff_cli

    app.cli.add_command(staff_cli)
    from app.cli_refunds import refunds_cli

    app.cli.add_command(refunds_cli)
    app.cli.add_command(db_cli)  # replaces Flask-Migrate's whole `db` group
    _register_dev_commands(app)
    from app.cli_promises import COMMANDS as promise_commands  # issue 18: promises, coupons, alliances

    for group in promise_commands:
        app.cli.add_command(group)
    from app.cli_attribution import register as register_attribution_commands

    register_attribution_commands(app)


@click.group("db")
@with_appcontext
def db_cli() -> None:
    """The database schema: apply the migrations (`upgrade`), see where it stands (`current`, `history`)."""
    # Flask-Migrate's commands read these from `g`, as its own `db` group would set them.
    g.directory, g.x_arg = None, ()


def _add_migration_commands() -> None:
    # Only what an operator runs. Writing migrations (`init`, `migrate`, `revision`) is not a command of the product:
    # a migration is a reviewed file in app/migrations/versions/.
    from flask_migrate.cli import db as flask_migrate_db

    for name in ("upgrade", "current", "history"):
        db_cli.add_command(flask_migrate_db.commands[name])


_add_migration_commands()


def _register_dev_commands(app: Flask) -> None:
    """serve, sandbox and demo come from the development tools, when they are installed (never in production)."""
    from app.devtools import dev_tools

    tools = dev_tools() if app.config["MICROMALL_ENV"] != "production" else None
    for command in tools.commands() if tools is not None else ():
        app.cli.add_command(command)


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
        start_thread(current_app._get_current_object())  # type: ignore[attr-defined]
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

    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


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
        elif isinstance(value, str) and name.endswith("_URL"):
            value = mask_url_password(value)  # DATABASE_URL and REDIS_URL carry their passwords
        click.echo(f"{name}={value if value is not None else ''}    # {meaning}")


@click.command("check-config")
@with_appcontext
def check_config() -> None:
    """Check a production environment: keys, database, Redis, HTTPS URLs. Exits 1 if anything is wrong."""
    from app.checks import run_checks

    checks = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)
