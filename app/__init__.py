"""micromall's core: the app factory. `gunicorn 'app:create_app()'` serves it; `micromall` is its command line."""
from __future__ import annotations

import functools
import inspect
import os
from typing import Any, Callable, Mapping

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import ConfigError, load_config
from app.devtools import INSTALL_HINT, DevTools, dev_tools
from app.extensions import db, init_redis, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


@functools.lru_cache(maxsize=None)
def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(func)


class MicromallFlask(Flask):
    """Flask, with `ensure_sync`'s answer remembered per function: Flask asks `iscoroutinefunction` of every hook and
    the view on every request (9 calls on /healthz, about 10 µs of its CPU: bench/per_request.py). The functions are
    the app's own, registered once, so the answer cannot change; an async view is still run through async_to_sync."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            coroutine = _is_coroutine_function(func)
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            coroutine = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if coroutine else func


def create_app(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app. `config` overrides settings (tests); `environ` replaces os.environ (tests of the config)."""
    instance_path = os.environ.get("MICROMALL_INSTANCE_PATH") or None
    app = MicromallFlask("app", instance_path=instance_path, instance_relative_config=True)
    from app.routing import install_converters

    install_converters(app)
    os.makedirs(app.instance_path, exist_ok=True)
    cfg = load_config(environ, config, instance_path=app.instance_path)
    tools = _sandbox_tools(cfg)
    if tools is not None:
        tools.prepare_config(cfg, app.instance_path)
    app.config.update(cfg)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=cfg["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(cfg["DATABASE_URL"], cfg["DATABASE_TIMEOUT_S"]),
        MAX_CONTENT_LENGTH=cfg["MAX_REQUEST_BYTES"],
        JSON_SORT_KEYS=False,
        TESTING=cfg["MICROMALL_ENV"] == "testing" or bool(cfg.get("TESTING")),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's, typed on the base class
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from app.cookie_session import CookieOnDemandSessionInterface

    app.session_interface = CookieOnDemandSessionInterface()

    db.init_app(app)
    from app import pool

    with app.app_context():
        pool.install(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    init_redis(app)

    from app import input_guard, jobs, logs, wechat
    from app.errors import register_error_handlers
    from app.health import bp as health_bp

    logs.init_app(app)
    jobs.init_app(app)
    wechat.init_app(app)
    register_error_handlers(app)
    input_guard.init_app(app)
    app.register_blueprint(health_bp)
    _register_adapters(app)
    from app import uow

    uow.install(app)  # each view registered above is its request's unit of work, committed in one place (app/uow.py)

    from app.cli import register_commands

    register_commands(app)
    if cfg["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg["PROXY_HOPS"], x_proto=cfg["PROXY_HOPS"])  # type: ignore
    if tools is not None and cfg.get("SANDBOX_MOUNT", True):
        tools.mount(app)
    return app


def _sandbox_tools(cfg: Mapping[str, Any]) -> DevTools | None:
    """The development tools when the sandbox is on (never in production, which refuses WECHAT_SANDBOX=1)."""
    if not cfg["WECHAT_SANDBOX"]:
        return None
    tools = dev_tools()
    if tools is None:
        raise ConfigError([f"WECHAT_SANDBOX is on (the default outside production) but the development tools are "
                           f"not installed: {INSTALL_HINT}; or set WECHAT_SANDBOX=0 and the real WeChat settings."])
    return tools


def _register_adapters(app: Flask) -> None:
    from miniprogram_api import register as register_miniprogram_api
    from official_account import register as register_official_account
    from payments import register as register_payments

    register_miniprogram_api(app)
    register_official_account(app)
    register_payments(app)
    from console import register as register_console

    register_console(app)


def _engine_options(url: str, timeout_s: int = 5) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several threads write in development and tests: wait for the lock instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    # MySQL drops idle connections after wait_timeout; recycle before that and check an idle one on checkout. Every wait is
    # bounded, well below gunicorn's 15 s, so a database that is gone or frozen (SIGSTOP) gives a quick 503:
    # connecting, each read and write (PyMySQL waits forever without them), a statement (MariaDB's
    # max_statement_time, in seconds), and waiting for a pooled connection.
    # The checkout ping and the reset on return are app/pool.py's: only when they are needed.
    from app.pool import engine_options

    return {**engine_options(), "pool_recycle": 1800, "pool_size": 10, "max_overflow": 20,
            "pool_timeout": timeout_s,
            "connect_args": {"connect_timeout": 3, "read_timeout": timeout_s + 1, "write_timeout": timeout_s + 1,
                             "init_command": f"SET SESSION max_statement_time={int(timeout_s)}"}}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection; WAL lets readers run beside a writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
