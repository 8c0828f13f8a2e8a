"""The floor of the stack under each path (the F rows of `bench.run`): a bare Flask app whose one route sends the
path's round trips and does nothing else, served by the same gunicorn settings as C0 and the project.

`GET /floor?sql=N&redis=M&writes=1`: N statements to MariaDB on this thread's own PyMySQL connection (point SELECTs
of a seeded customer's whole row; with `writes`, the last is an INSERT, so the COMMIT that follows is a durable
one, as a real write's is), then the COMMIT, then M Redis round trips (a GET) on redis-py with hiredis, as the app uses it; the answer is {"status": "ok"}.
No ORM, no SQLAlchemy, no schema validation, no token, no log line: what is left is Flask, PyMySQL, redis-py,
gunicorn and the servers. A path's ratio to C0 cannot rise above its floor's by any change to our code short of
sending fewer round trips or leaving this stack, so the floor is the limit the issue's "what the limit is" asks
for, and the distance between a path and its floor is the part that is ours.

`MIXES` gives each scenario's requests as the path sends them (statements: tests/perf/test_statement_counts.py;
Redis round trips: tests/perf/test_redis_round_trips.py and bench/hot_paths.py), in the same proportions as the
scenario (S3: one application and nine copies per order; S5: one success and nineteen losers per code).
`gunicorn -c deploy/gunicorn.conf.py bench.floor_app:app`.
"""
from __future__ import annotations

import os
import random
import threading
from urllib.parse import urlsplit

import pymysql
import redis
from flask import Flask, request

# scenario -> [(share of its requests, statements, Redis round trips, whether it writes)]; the counts are those
# bench/hot_paths.py prints for each path (statements and Redis round trips of the request's own thread).
MIXES: dict[str, list[tuple[float, int, int, bool]]] = {
    # The warm list: one MGET of both versions and the rendered answer.
    "S1": [(1.0, 0, 1, False)],
    # Each customer's first order (cold token: `placement`) and second (`placement_warm`).
    "S2a": [(0.5, 7, 5, True), (0.5, 6, 4, True)],
    # 500 sold of 1,500 attempts by buyers whose tokens are cold; a loser (`placement_sold_out`): the token read.
    "S2b": [(1 / 3, 7, 5, True), (2 / 3, 1, 3, False)],
    # The first of ten applies (`notify_first`); a copy waits for its marker (`notify_copy_concurrent`).
    "S3": [(0.1, 7, 2, True), (0.9, 0, 2, False)],
    # Half texts (门店: no statement) and half locations (the follower's upsert), each the replay script and the
    # reply kept (tests/perf/test_redis_round_trips.py). Without the decryption, signature and encryption: a looser
    # floor than the others (S3c is the crypto's own ceiling for a notification).
    "S4": [(0.5, 0, 2, False), (0.5, 1, 2, True)],
    # The first of twenty redeems (`redeem_first`); a loser (`redeem_loser_concurrent`): the seat, its attempt.
    "S5": [(0.05, 8, 4, True), (0.95, 2, 3, True)],
}

app = Flask(__name__)
_local = threading.local()
_url = urlsplit(os.environ.get("DATABASE_URL", "mysql+pymysql://root:@127.0.0.1:3306/micromall_bench"))
_redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"), socket_timeout=0.5)
_CUSTOMERS = 2000  # ids seeded by bench/seed.py, all present


def _connect():
    """The driver the project's DATABASE_URL names (BENCH_DRIVER=mysqldb: the mysqlclient extra), raw."""
    args = dict(host=_url.hostname, port=_url.port or 3306, user=_url.username or "root", charset="utf8mb4")
    if _url.scheme.endswith("+mysqldb"):
        import MySQLdb

        return MySQLdb.connect(**args, password=_url.password or "", database=_url.path.lstrip("/"), autocommit=False)
    return pymysql.connect(**args, password=_url.password or "", database=_url.path.lstrip("/"), autocommit=False)


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_floor (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                        "customer_id BIGINT NOT NULL, at DATETIME(6) NOT NULL) ENGINE=InnoDB")
        conn.commit()
    return conn


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/floor")
def floor() -> dict[str, str]:
    statements = request.args.get("sql", 0, type=int)
    round_trips = request.args.get("redis", 0, type=int)
    writes = request.args.get("writes", 0, type=int)
    if statements:
        conn = _connection()
        customer = random.randint(1, _CUSTOMERS)
        with conn.cursor() as cur:
            for _ in range(statements - writes):
                cur.execute("SELECT * FROM customers WHERE id = %s", (customer,))
                cur.fetchall()
            if writes:
                cur.execute("INSERT INTO bench_floor (customer_id, at) VALUES (%s, UTC_TIMESTAMP(6))", (customer,))
        conn.commit()
    for _ in range(round_trips):
        _redis.get("bench:floor")
    return {"status": "ok"}


def requests_for(scenario: str, count: int) -> list[tuple[str, str, dict[str, str], None]]:
    """`count` floor requests in the scenario's proportions, interleaved as its own requests arrive."""
    reqs = []
    for share, statements, round_trips, writes in MIXES[scenario]:
        target = f"/floor?sql={statements}&redis={round_trips}&writes={int(writes)}"
        reqs += [("GET", target, {}, None)] * max(1, round(count * share))
    random.Random(7).shuffle(reqs)
    return reqs
