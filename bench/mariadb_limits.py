"""What MariaDB itself allows, below any application code: the ceilings the hot write paths run into.

- round trips: `SELECT 1` per second on one connection (the cost of a statement with no work in it);
- commits: a one-row INSERT and COMMIT per transaction, on 1 and on N connections (each commit waits for the redo
  log's fsync with innodb_flush_log_at_trx_commit=1; N connections share fsyncs by group commit);
- a hot row: `UPDATE ... SET quantity = quantity - 1 WHERE id = 1 AND quantity > 0` and COMMIT, on 1 and on N
  connections (the N serialize on the row lock, each holding it until its commit's fsync): the ceiling of a rush
  on one SKU's stock row, whatever the application does around it.

It uses its own database (`micromall_limits_<pid>`, dropped at the end) on the server of
MICROMALL_LIMITS_URL (default mysql://root@127.0.0.1:3306), through PyMySQL, each measurement bounded in time. It
changes no server setting (it prints the durability ones it ran under). Run from the repository root:

    nice .venv/bin/python -m bench.mariadb_limits [seconds per measurement, default 3] [connections, default 8]

On a shared machine the figures are lower bounds; the integrator's idle run gives the real ones.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import pymysql


def _connect(database: str | None = None) -> pymysql.connections.Connection:
    url = urlparse(os.environ.get("MICROMALL_LIMITS_URL", "mysql://root@127.0.0.1:3306"))
    return pymysql.connect(host=url.hostname or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", database=database, autocommit=False)


def _rate(connections: int, seconds: float, database: str, step: Callable[[pymysql.cursors.Cursor, int], None]
          ) -> float:
    """Transactions per second of `step` run in a loop on `connections` connections for `seconds`."""
    counts = [0] * connections
    barrier = threading.Barrier(connections + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        conn = _connect(database)
        try:
            with conn.cursor() as cur:
                barrier.wait()
                while time.monotonic() < stop_at[0]:
                    step(cur, i)
                    conn.commit()
                    counts[i] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    start = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main(seconds: float = 3.0, connections: int = 8) -> None:
    database = f"micromall_limits_{os.getpid()}"
    admin = _connect()
    with admin.cursor() as cur:
        cur.execute("SELECT @@version, @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin")
        version, flush, sync_binlog, log_bin = cur.fetchone()
        cur.execute(f"CREATE DATABASE `{database}`")
        cur.execute(f"CREATE TABLE `{database}`.log (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6),"
                    " note VARCHAR(32)) ENGINE=InnoDB")
        cur.execute(f"CREATE TABLE `{database}`.stock (id INT PRIMARY KEY, quantity BIGINT) ENGINE=InnoDB")
        cur.execute(f"INSERT INTO `{database}`.stock VALUES (1, 1000000000)")
    admin.commit()
    print(f"MariaDB {version}: innodb_flush_log_at_trx_commit={flush} sync_binlog={sync_binlog} log_bin={log_bin};"
          f" {seconds:g} s per figure")
    try:
        def select_one(cur, i):
            cur.execute("SELECT 1")
            cur.fetchall()

        def insert(cur, i):
            cur.execute("INSERT INTO log (at, note) VALUES (NOW(6), %s)", (f"c{i}",))

        def hot_row(cur, i):
            cur.execute("UPDATE stock SET quantity = quantity - 1 WHERE id = 1 AND quantity > 0")

        figures = [
            ("round trips (SELECT 1 + COMMIT of nothing), 1 connection", 1, select_one),
            ("commits of a one-row INSERT, 1 connection", 1, insert),
            (f"commits of a one-row INSERT, {connections} connections", connections, insert),
            ("hot-row UPDATE + COMMIT, 1 connection", 1, hot_row),
            (f"hot-row UPDATE + COMMIT, {connections} connections", connections, hot_row),
        ]
        for label, n, step in figures:
            print(f"  {label:58} {_rate(n, seconds, database, step):8.0f} /s", flush=True)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE `{database}`")
        admin.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(float(args[0]) if args else 3.0, int(args[1]) if len(args) > 1 else 8)
