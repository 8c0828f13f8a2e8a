"""The production layout on loopback, private to one test run: its own MariaDB (`mariadb-install-db` into a temp
folder, its own port and socket) and Redis (its own port, no persistence), never the machine's shared ones; the
WeChat sandbox as its own server; two gunicorn nodes with deploy/gunicorn.conf.py; two `micromall worker`s, each
restarted when it exits, as systemd's Restart=always would. Every process is started here and stopped here, by
its own pid."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pymysql
import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DB_NAME = "micromall"
SECRET = "fault-tests-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    """Poll until `predicate` returns something truthy (exceptions count as not yet); fail after `timeout`."""
    deadline, last_error = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # not up yet, or down on purpose
            last_error = exc
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last_error!r})")


def binaries_missing() -> str | None:
    for name in ("mariadbd", "mariadb-install-db", "redis-server"):
        if shutil.which(name) is None and not Path("/usr/sbin", name).exists():
            return f"{name} is not installed"
    return None


class Cluster:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.db_port, self.redis_port, self.sandbox_port = free_port(), free_port(), free_port()
        self.node_ports = [free_port(), free_port()]
        self.procs: dict[str, subprocess.Popen] = {}
        self.supervised: set[str] = set()
        self._stop_supervisor = threading.Event()
        self.restarts: dict[str, int] = {}
        self.env = self._env()

    # --- environment ----------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT", "GUNICORN_", "PUBLIC_BASE"))}
        env.update(
            MICROMALL_ENV="development",  # the sandbox and its generated pay keys are refused in production
            MICROMALL_INSTANCE_PATH=str(self.work / "instance"), SECRET_KEY=SECRET,
            DATABASE_URL=f"mysql+pymysql://root:@127.0.0.1:{self.db_port}/{DB_NAME}?charset=utf8mb4",
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0", WECHAT_SANDBOX="1",
            WECHAT_API_BASE_URL=self.sandbox_url, WECHATPAY_API_BASE_URL=self.sandbox_url,
            PUBLIC_BASE_URL=self.node_url(0),  # WeChat Pay's notifications come back to node 0
            GUNICORN_WORKERS="2",
            # Short clocks, so each fault plays out within seconds: the mechanisms are the production ones.
            DATABASE_TIMEOUT_S="2", REDIS_TIMEOUT_MS="300", JOBS_LEASE_S="6", PERIODIC_INTERVAL_PERCENT="5",
            ORDER_PAYMENT_TIMEOUT_S="25",
        )
        return env

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def node_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.node_ports[i]}"

    # --- processes ------------------------------------------------------------------------------------------
    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        with open(self.work / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs[name] = proc
        return proc

    def micromall(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run([PYTHON, "-c", "from app.cli import main; main()", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"micromall {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout

    def signal(self, name: str, sig: int) -> None:
        self.procs[name].send_signal(sig)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for them together (10 s at most, then SIGKILL): one after
        the other, each graceful shutdown added its own wait."""
        self._stop_supervisor.set()
        running = [proc for proc in reversed(list(self.procs.values())) if proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            proc.terminate()
        deadline = time.monotonic() + 10
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    # --- MariaDB and Redis ----------------------------------------------------------------------------------
    def install_mariadb(self) -> None:
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.work / 'mariadb'}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)

    def start_mariadb(self) -> None:
        self.start("mariadb", ["mariadbd", "--no-defaults", f"--datadir={self.work / 'mariadb'}",
                               f"--port={self.db_port}", f"--socket={self.work / 'mariadb.sock'}",
                               "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin", "--skip-name-resolve",
                               "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
                               f"--pid-file={self.work / 'mariadb.pid'}"])
        poll(lambda: self.sql("SELECT 1", database=None), 60, "the private MariaDB")

    def sql(self, query: str, *args, database: str | None = DB_NAME) -> list[tuple]:
        conn = pymysql.connect(host="127.0.0.1", port=self.db_port, user="root", password="", database=database,
                               connect_timeout=2, read_timeout=5, autocommit=True)
        try:
            with conn.cursor() as cursor:
                cursor.execute(query, args or None)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def start_redis(self) -> None:
        self.start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(self.work)])
        poll(lambda: socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close() or True, 20,
             "the private Redis")

    # --- the application ------------------------------------------------------------------------------------
    def start_sandbox(self) -> None:
        # The sandbox as its own server, with WeChat Pay's notification retries on a short clock.
        code = ("import sys; from app import create_app; from micromall_dev.sandbox_mount import sandbox_settings; "
                "from wechat_sandbox.__main__ import run; app = create_app(); "
                "run(sandbox_settings(app.config, notify_schedule_s=(0.5, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5)),"
                f" '127.0.0.1', {self.sandbox_port})")
        self.start("sandbox", [PYTHON, "-c", code])
        poll(lambda: requests.get(f"{self.sandbox_url}/sandbox/records", timeout=2).ok, 60, "the sandbox")

    def start_node(self, i: int) -> None:
        self.start(f"node{i}", [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                                "app:create_app()"], {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.node_ports[i]}"})
        poll(lambda: requests.get(f"{self.node_url(i)}/readyz", timeout=2).ok, 60, f"node {i}")

    def start_worker(self, i: int) -> None:
        self.start(f"worker{i}", [PYTHON, "-c", "from app.cli import main; main()", "worker"])
        self.supervised.add(f"worker{i}")

    def supervise(self) -> None:
        """Restart a supervised process that exited, one second later (systemd's Restart=always, RestartSec=1)."""
        def loop() -> None:
            while not self._stop_supervisor.wait(0.5):
                for name in list(self.supervised):
                    if self.procs[name].poll() is not None and not self._stop_supervisor.is_set():
                        time.sleep(1)
                        self.restarts[name] = self.restarts.get(name, 0) + 1
                        self.start(name, [PYTHON, "-c", "from app.cli import main; main()", "worker"])

        threading.Thread(target=loop, name="supervisor", daemon=True).start()

    def boot(self) -> None:
        # What does not depend on each other starts side by side (the boot was half of the fault suite's time).
        # `db upgrade` runs alone first: it creates the instance's development pay keys, which every later process
        # reads (two processes creating them at once could each write their own).
        (self.work / "instance").mkdir()
        together(self.install_mariadb, self.start_redis)
        self.start_mariadb()
        self.sql(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", database=None)
        self.micromall("db", "upgrade")
        # The nodes boot while the demo is seeded: nothing asks them anything before the tests do.
        together(lambda: self.micromall("seed-demo"), self.start_sandbox, lambda: self.start_node(0),
                 lambda: self.start_node(1))
        for i in (0, 1):
            self.start_worker(i)
        self.supervise()


def together(*steps: Callable[[], object]) -> None:
    """Run the steps in threads and wait for all of them; the first failure is raised."""
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        for future in [pool.submit(step) for step in steps]:
            future.result()
