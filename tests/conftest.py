"""The test harness: the suite runs on SQLite (no Redis: the in-process fallbacks) and on MariaDB with real Redis.

- Backends: MICROMALL_TEST_BACKENDS (default "sqlite,mariadb"). Under CI=true a backend whose service is down
  fails the run at once; elsewhere its tests are skipped with the reason.
- WeChat is the sandbox, served over real HTTP; any attempt to reach the real WeChat hosts fails the test.
- Each test starts from empty tables, an empty Redis test database and a reset sandbox.
"""
from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
import redis as redis_lib
import requests
from sqlalchemy import Select, delete, exists, select, text

from app import create_app
from app.catalog.cache import bump_version
from app.extensions import db
from micromall_dev.sandbox_mount import sandbox_settings
from wechat_sandbox import create_sandbox_app
from wechat_sandbox.server import RunningServer, serve_in_thread

MARIADB = dict(host=os.environ.get("MICROMALL_TEST_MYSQL_HOST", "127.0.0.1"),
               port=int(os.environ.get("MICROMALL_TEST_MYSQL_PORT", "3306")),
               user=os.environ.get("MICROMALL_TEST_MYSQL_USER", "root"),
               password=os.environ.get("MICROMALL_TEST_MYSQL_PASSWORD", ""))
# Each run has its own MariaDB database and Redis db, so two runs on one machine (two checkouts, a developer and
# CI) never see each other's rows or keys. The database is dropped when the run ends.
MARIADB_DB = os.environ.get("MICROMALL_TEST_MYSQL_DB", f"micromall_test_{os.getpid()}")
REDIS_SERVER = os.environ.get("MICROMALL_TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
REDIS_URL = os.environ.get("MICROMALL_TEST_REDIS_URL", "")  # set by _claim_redis_db() unless given
_REDIS_CLAIM_KEY = "micromall-test:redis-db:{}"
REAL_WECHAT_HOSTS = ("api.weixin.qq.com", "api.mch.weixin.qq.com", "mp.weixin.qq.com", "weixin.qq.com")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _mariadb_problem() -> str | None:
    try:
        conn = pymysql.connect(**MARIADB, connect_timeout=3)
    except pymysql.MySQLError as exc:
        return f"MariaDB at {MARIADB['host']}:{MARIADB['port']} is not reachable: {exc}"
    with conn:
        conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{MARIADB_DB}` CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci")
    return None


def _claim_redis_db() -> str | None:
    """Claims a free Redis db (1-15) for this run with an atomic SET NX in db 0; released when the run ends."""
    global REDIS_URL
    if REDIS_URL:
        return None
    try:
        claims = redis_lib.Redis.from_url(f"{REDIS_SERVER}/0", socket_connect_timeout=3)
        for number in range(1, 16):
            if claims.set(_REDIS_CLAIM_KEY.format(number), os.getpid(), nx=True, ex=4 * 3600):
                REDIS_URL = f"{REDIS_SERVER}/{number}"
                return None
    except redis_lib.RedisError as exc:
        return f"Redis at {REDIS_SERVER} is not reachable: {exc}"
    return f"no free Redis db at {REDIS_SERVER}: 15 test runs hold one (keys {_REDIS_CLAIM_KEY.format('*')} in db 0)"


def _release_test_services() -> None:
    if _claimed_db is not None:
        with contextlib.suppress(pymysql.MySQLError), pymysql.connect(**MARIADB, connect_timeout=3) as conn:
            for name in (MARIADB_DB, f"{MARIADB_DB}_migrations"):  # the second: tests/app/test_migrations.py
                conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    if REDIS_URL and "MICROMALL_TEST_REDIS_URL" not in os.environ:
        with contextlib.suppress(redis_lib.RedisError):
            redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
            number = REDIS_URL.rsplit("/", 1)[1]
            redis_lib.Redis.from_url(f"{REDIS_SERVER}/0", socket_connect_timeout=3).delete(
                _REDIS_CLAIM_KEY.format(number))


BACKENDS = [b.strip() for b in os.environ.get("MICROMALL_TEST_BACKENDS", "sqlite,mariadb").split(",") if b.strip()]
_unavailable: dict[str, str] = {}


_claimed_db: str | None = None


def _xdist_controller(config: pytest.Config) -> bool:
    """Under pytest-xdist (`-n 2`) the controller only hands tests to the workers: each worker is a process of its
    own (so its own pid) and claims its own database and Redis db, as two runs on one machine do."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "tx", None)) \
        and getattr(config.option, "dist", "no") != "no"


def _services_unreachable() -> str | None:
    try:
        pymysql.connect(**MARIADB, connect_timeout=3).close()
    except pymysql.MySQLError as exc:
        return f"MariaDB at {MARIADB['host']}:{MARIADB['port']} is not reachable: {exc}"
    try:
        redis_lib.Redis.from_url(f"{REDIS_SERVER}/0", socket_connect_timeout=3).ping()
    except redis_lib.RedisError as exc:
        return f"Redis at {REDIS_SERVER} is not reachable: {exc}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _claimed_db
    if "mariadb" in BACKENDS and _xdist_controller(config):
        problem = _services_unreachable()  # fail at once under CI, before the workers start; they claim, not this
        if problem and IN_CI:
            pytest.exit(f"CI needs MariaDB and Redis: {problem}", returncode=3)
        return
    if "mariadb" in BACKENDS:
        problem = _mariadb_problem() or _claim_redis_db()
        if problem:
            if IN_CI:
                pytest.exit(f"CI needs MariaDB and Redis: {problem}", returncode=3)
            _unavailable["mariadb"] = problem
        else:
            _claimed_db = MARIADB_DB


# The longest tests (each tens of seconds, most of it in processes of their own), handed out first under xdist, so
# none of them starts last and leaves the other workers idle at the end.
LONGEST_FIRST = ("tests/faults/", "tests/deploy/test_nginx.py", "tests/test_lint.py", "tests/test_demo.py",
                 "tests/test_cli.py", "tests/test_readme.py", "tests/console/test_browser.py",
                 "tests/app/test_api_properties.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; each one collects the same list, so orders it alike
        rank = {prefix: i for i, prefix in enumerate(LONGEST_FIRST)}

        def key(item: pytest.Item) -> int:
            path = item.nodeid.split("::", 1)[0]
            return next((r for prefix, r in rank.items() if path.startswith(prefix)), len(rank))
        items.sort(key=key)


def pytest_unconfigure(config: pytest.Config) -> None:
    _release_test_services()


# --- no call may reach the real WeChat -------------------------------------------------------------------------
_real_getaddrinfo = socket.getaddrinfo
_wechat_attempts: list[str] = []


def _guarded_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and any(host == h or host.endswith("." + h) for h in REAL_WECHAT_HOSTS):
        _wechat_attempts.append(host)
        raise OSError(f"test tried to reach the real WeChat host {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def no_real_wechat() -> Iterator[None]:
    _wechat_attempts.clear()
    yield
    if _wechat_attempts:
        pytest.fail(f"the test tried to reach the real WeChat: {sorted(set(_wechat_attempts))}")


# --- the WeChat sandbox over real HTTP ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("instance"))
    os.environ["MICROMALL_INSTANCE_PATH"] = path  # dev pay keys are generated once, here
    return path


def base_config(instance_dir: str) -> dict[str, Any]:
    return {"MICROMALL_ENV": "testing", "WECHAT_SANDBOX": True, "SANDBOX_MOUNT": False, "JOBS_EAGER": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789"}


@pytest.fixture(scope="session")
def wechat_sandbox(instance_dir: str) -> Iterator[RunningServer]:
    """One sandbox for the session, configured with the same apps and keys as the app under test."""
    probe = create_app({**base_config(instance_dir), "DATABASE_URL": "sqlite://"})
    server = serve_in_thread(create_sandbox_app(sandbox_settings(probe.config, notify_schedule_s=(0.2, 0.5, 1.0))))
    yield server
    server.stop()


@pytest.fixture
def sandbox(wechat_sandbox: RunningServer) -> RunningServer:
    requests.post(f"{wechat_sandbox.base_url}/sandbox/reset", timeout=5).raise_for_status()
    return wechat_sandbox


# --- the app on each backend ----------------------------------------------------------------------------------
_schema_ready: set[str] = set()


def _database_url(backend: str, tmp_root: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{os.path.join(tmp_root, 'test.sqlite3')}"
    return (f"mysql+pymysql://{MARIADB['user']}:{MARIADB['password']}@{MARIADB['host']}:{MARIADB['port']}/"
            f"{MARIADB_DB}?charset=utf8mb4")


# For tests of what only a real server shows (row locks under concurrency, Redis shared between processes):
# they run on MariaDB + Redis only, instead of running and skipping on SQLite.
mariadb_only = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
# For the embedded default's own paths (no Redis: in-process jobs, in-process caches).
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param not in BACKENDS:  # a mariadb_only test under MICROMALL_TEST_BACKENDS=sqlite
        pytest.skip(f"backend {request.param} not in MICROMALL_TEST_BACKENDS")
    if request.param in _unavailable:
        pytest.skip(_unavailable[request.param])
    return request.param


@pytest.fixture
def app_config(backend: str, instance_dir: str, sandbox: RunningServer) -> dict[str, Any]:
    """Override entries in a test (`app_config["X"] = …`) before the `app` fixture is first used."""
    config = base_config(instance_dir)
    config.update(DATABASE_URL=_database_url(backend, instance_dir), WECHAT_API_BASE_URL=sandbox.base_url,
                  WECHATPAY_API_BASE_URL=sandbox.base_url)
    if backend == "mariadb":
        config["REDIS_URL"] = REDIS_URL
    return config


@pytest.fixture
def app(app_config: dict[str, Any], backend: str):
    app = create_app(app_config)
    with app.app_context():
        if backend not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(backend)
        _empty_tables()
        redis = app.extensions["micromall_redis"]
        if redis is not None:
            redis.flushdb()
        bump_version()  # the tables were emptied behind the ORM's back: no cached catalog page may survive
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


_which_hold_rows: Select | None = None


def _empty_tables() -> None:
    """Deletes the rows of every table that has any. One query asks which do: a test writes to a few of the ~50
    tables, and a DELETE for each table for each test was most of this fixture's time on MariaDB. The database is
    asked, not a record of this process's writes, since subprocesses (the CLI tests) write to the same database."""
    global _which_hold_rows
    tables = list(reversed(db.metadata.sorted_tables))  # children first
    if _which_hold_rows is None:  # built once: building and compiling 50 EXISTS per test cost more than it saved
        _which_hold_rows = select(*(exists().select_from(table) for table in tables))
    holding = db.session.execute(_which_hold_rows).one()
    tables = [table for table, has_rows in zip(tables, holding) if has_rows]
    if not tables:
        db.session.rollback()
        return
    mysql = db.engine.dialect.name == "mysql"
    if mysql:  # InnoDB checks a self-referencing foreign key (categories.parent_id) row by row
        db.session.execute(text("SET FOREIGN_KEY_CHECKS=0"))
    for table in tables:
        db.session.execute(delete(table))
    if mysql:
        db.session.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
