"""CPU per request, in process: `python -m bench.per_request [--backend mariadb|sqlite] [--only bare,S0,S1,S4]`.

wrk figures need an idle machine; this does not. It builds the app as the bench serves it (MariaDB + Redis, or
SQLite without Redis), seeds it like bench/seed.py, and drives N requests of each path through the WSGI callable
(pre-built environs, the body read to the end as a server would), timing `time.process_time()` around the loop:
CPU of this process only, so other engineers' load barely moves it (a MariaDB or Redis round trip's wait is not
counted, its client-side CPU is). Median of the rounds, in µs per request. bare/path approximates the wrk ratio
to C0 without gunicorn's own per-request cost (which adds the same to both, so wrk's ratio is somewhat higher).

Paths: bare (bench/bare_app.py /healthz), S0 (/healthz), S1 (20 products of a store, warm), S4 (safe-mode text 门店
and location messages, every one a new MsgId), A1 (GET /api/v1/me with a customer token), A2 (a staff lookup of an
unknown pickup code: a 404). `--profile S1` prints cProfile's top functions for one path instead.

The JSON request log line is formatted and written (to /dev/null), as in production: it is part of the cost.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

from werkzeug.test import EnvironBuilder

ROUNDS = 9
PATHS = ("bare", "S0", "S1", "S4", "A1", "A2")
DB_NAME = f"micromall_per_request_{os.getpid()}"
REDIS_SERVER = "redis://127.0.0.1:6379"
_CLAIM = "micromall-test:redis-db:{}"  # the test suite's claim keys (tests/conftest.py): never share a db with it


def _claim_redis_db() -> int:
    import redis

    claims = redis.Redis.from_url(f"{REDIS_SERVER}/0")
    for number in range(15, 0, -1):
        if claims.set(_CLAIM.format(number), f"per_request-{os.getpid()}", nx=True, ex=3600):
            return number
    raise SystemExit("no free Redis db (1-15 all claimed)")


def _release(backend: str, redis_db: int | None) -> None:
    if backend != "mariadb":
        return
    import pymysql
    import redis

    with pymysql.connect(host="127.0.0.1", user="root", password="") as conn:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{DB_NAME}`")
    if redis_db is not None:
        redis.Redis.from_url(f"{REDIS_SERVER}/{redis_db}").flushdb()
        redis.Redis.from_url(f"{REDIS_SERVER}/0").delete(_CLAIM.format(redis_db))


def build_app(backend: str, instance: str, redis_db: int | None):
    env = {"MICROMALL_ENV": "development", "MICROMALL_INSTANCE_PATH": instance, "WECHAT_SANDBOX": "1",
           "SECRET_KEY": "per-request-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
           "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "WECHATPAY_API_BASE_URL": "http://127.0.0.1:9",
           "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
           "API_VALIDATE_RESPONSES": "0"}  # as production and bench.run serve (development checks every answer)
    if backend == "mariadb":
        import pymysql

        with pymysql.connect(host="127.0.0.1", user="root", password="") as conn:
            conn.cursor().execute(f"CREATE DATABASE `{DB_NAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env.update(DATABASE_URL=f"mysql+pymysql://root:@127.0.0.1:3306/{DB_NAME}?charset=utf8mb4",
                   REDIS_URL=f"{REDIS_SERVER}/{redis_db}")
    else:
        env["DATABASE_URL"] = f"sqlite:///{os.path.join(instance, 'per_request.sqlite3')}"
    for key in [k for k in os.environ if k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT", "PUBLIC_"))]:
        del os.environ[key]
    os.environ.update(env)
    # The production log handler (app/logs.py installs it when the root logger has none), writing to /dev/null.
    from app import create_app
    from app.extensions import db

    app = create_app()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    with app.app_context():
        db.create_all()
    return app


def _environ(method: str, path: str, headers: dict[str, str], body: bytes | None) -> dict[str, Any]:
    builder = EnvironBuilder(path=path, method=method, headers=headers, data=body,
                             environ_base={"REMOTE_ADDR": "127.0.0.1"})
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _cpu() -> tuple[float, float]:
    """(user, system) CPU seconds of this thread: the requests run here; Redis' and the pool's threads do not."""
    usage = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return usage.ru_utime, usage.ru_stime


def drive(app: Callable, requests: list[dict[str, Any]], split: list | None = None) -> tuple[float, dict[int, int]]:
    """CPU µs per request over `requests` (environs), and the statuses seen; `split` gets (user, system) µs."""
    statuses: dict[int, int] = {}

    def start_response(status: str, headers, exc_info=None):
        code = int(status[:3])
        statuses[code] = statuses.get(code, 0) + 1

    started, (user0, sys0) = time.process_time(), _cpu()
    for environ in requests:
        body = app(environ, start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
    spent = time.process_time() - started
    user1, sys1 = _cpu()
    if split is not None:
        split.append(((user1 - user0) / len(requests) * 1e6, (sys1 - sys0) / len(requests) * 1e6))
    return spent / len(requests) * 1e6, statuses


class Paths:
    def __init__(self, app, seeded) -> None:
        self.app, self.s = app, seeded

    def requests(self, name: str, n: int) -> list[dict[str, Any]]:
        from bench import scenario_data as data

        if name in ("bare", "S0"):
            reqs = data.healthz() * n
        elif name == "S1":
            reqs = data.product_list(self.s.store_id) * n
        elif name == "S4":
            reqs = data.official_account_messages(self.app.config, n, followers=50)
        elif name == "A1":
            tokens = self.s.customer_tokens
            reqs = [("GET", "/api/v1/me", {"Authorization": f"Bearer {tokens[i % 50]}"}, None) for i in range(n)]
        elif name == "A2":
            reqs = [("POST", "/api/v1/staff/pickups/lookup", {"Authorization": f"Bearer {self.s.staff_token}",
                                                              "Content-Type": "application/json"},
                     b'{"code": "000000000000"}')] * n  # 12 digits (app/pickup/codes.py), none issued: a 404
        else:
            raise SystemExit(f"unknown path {name}; known: {', '.join(PATHS)}")
        return [_environ(*r) for r in reqs]

    def callable_for(self, name: str):
        if name == "bare":
            from bench.bare_app import app as bare

            return bare
        return self.app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.per_request", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("mariadb", "sqlite"), default="mariadb")
    parser.add_argument("--only", default=",".join(PATHS), help="comma-separated paths: " + ", ".join(PATHS))
    parser.add_argument("-n", type=int, default=500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--profile", metavar="PATH", help="cProfile one path (top 40 by own time) instead")
    args = parser.parse_args(argv)
    names = [args.profile] if args.profile else [p.strip() for p in args.only.split(",") if p.strip()]
    redis_db = _claim_redis_db() if args.backend == "mariadb" else None
    try:
        with tempfile.TemporaryDirectory() as instance:
            app = build_app(args.backend, instance, redis_db)
            from bench.seed import seed

            paths = Paths(app, seed(app, customers=60))
            results = {}
            for name in names:
                target = paths.callable_for(name)
                drive(target, paths.requests(name, 100))  # warm: caches filled, followers created, code loaded
                if args.profile:
                    reqs = paths.requests(name, args.n)
                    profiler = cProfile.Profile(time.process_time)  # CPU, as the figures are
                    profiler.enable()
                    drive(target, reqs)
                    profiler.disable()
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
                    print(out.getvalue())
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
                    # BENCH_CALLEES: a regex of the functions whose callees to list (the request log's by default)
                    callees = os.environ.get("BENCH_CALLEES", "_log|handle|emit|makeRecord|factory|format")
                    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(callees)
                    print(out.getvalue())
                    return 0
                rounds, seen, split = [], {}, []
                for _ in range(args.rounds):
                    micros, statuses = drive(target, paths.requests(name, args.n), split)
                    rounds.append(micros)
                    for code, count in statuses.items():
                        seen[code] = seen.get(code, 0) + count
                results[name] = statistics.median(rounds)
                print(f"{name:5} {results[name]:8.0f} µs/request CPU (median of {args.rounds} x {args.n}, min {min(rounds):.0f}; "
                      f"rounds {', '.join(f'{r:.0f}' for r in rounds)}; this thread user {statistics.median(u for u, _ in split):.0f} "
                      f"+ system {statistics.median(k for _, k in split):.0f}; statuses {seen})", flush=True)
            if "bare" in results:
                print("ratio bare/path: " + ", ".join(f"{k} {results['bare'] / v:.2f}" for k, v in results.items()
                                                       if k != "bare"))
    finally:
        _release(args.backend, redis_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
