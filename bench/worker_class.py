"""Which gunicorn worker class keeps quick requests (WeChat's callbacks) answered while slow WeChat calls hang?

`python -m bench.worker_class [sync gthread gevent]`: for each class, gunicorn with deploy/gunicorn.conf.py (5
workers, as on 2 cores) serves the app on SQLite; WeChat is a black hole (it accepts and never answers), so every
login waits for its full timeout (3.05 s connect + 5 s read). 12 logins are started at once, and meanwhile 20 quick
requests (GET /api/v1/stores, the stand-in for a callback: same workers, database only) are timed one after another.
Prints the quick requests' median and worst latency per class; docs/operations-faults.md records a run.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SLOW_CALLS, QUICK_CALLS = 12, 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def black_hole() -> tuple[int, threading.Event]:
    """A TCP server that accepts connections and never answers: a WeChat that hangs."""
    server, stop, held = socket.socket(), threading.Event(), []
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    server.settimeout(0.2)

    def loop() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
        for conn in held:
            conn.close()
        server.close()

    threading.Thread(target=loop, daemon=True).start()
    return server.getsockname()[1], stop


def measure(worker_class: str, env: dict[str, str], work: Path) -> tuple[float, float]:
    port = free_port()
    extra = {"sync": ["--threads", "1"], "gthread": ["--threads", "8"], "gevent": []}[worker_class]
    with open(work / f"gunicorn-{worker_class}.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                                 "--worker-class", worker_class, *extra, "app:create_app()"], cwd=ROOT,
                                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "5"},
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/stores", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with ThreadPoolExecutor(SLOW_CALLS) as pool:
            slow = [pool.submit(requests.post, f"{base}/auth/login", json={"code": f"sandbox-slow{i}"}, timeout=30)
                    for i in range(SLOW_CALLS)]
            time.sleep(0.5)  # the slow calls are in the workers now
            quick = []
            for _ in range(QUICK_CALLS):
                started = time.monotonic()
                requests.get(f"{base}/stores", timeout=30)
                quick.append(time.monotonic() - started)
            for future in slow:
                future.result()
        return statistics.median(quick), max(quick)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(classes: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="micromall-workerclass-"))
    hole_port, stop = black_hole()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_ENV="development", MICROMALL_INSTANCE_PATH=str(work / "instance"),
               DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}", WECHAT_SANDBOX="1",
               WECHAT_API_BASE_URL=f"http://127.0.0.1:{hole_port}", SECRET_KEY="w" * 40)
    subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "seed-demo"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    print(f"{SLOW_CALLS} logins hanging on WeChat, {QUICK_CALLS} quick requests meanwhile; 5 workers")
    for worker_class in classes:
        median, worst = measure(worker_class, env, work)
        print(f"{worker_class:8s} quick request median {median * 1000:7.0f} ms   worst {worst * 1000:7.0f} ms")
    stop.set()


if __name__ == "__main__":
    main(sys.argv[1:] or ["sync", "gthread", "gevent"])
