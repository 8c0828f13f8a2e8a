"""The servers a bench run needs, each its own process on loopback: the WeChat sandbox, gunicorn (the app, and the
verify-only app that is S3's second ceiling) and nginx. Also the machine and version facts the report prints."""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.nginx_loopback import write_config

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "work"  # per-run scratch: instance folder, nginx prefix, wrk data files, logs
PYTHON = sys.executable
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))  # fixed, recorded in the report: 2 cores here
THREADS = os.environ.get("BENCH_THREADS", "")  # threads per worker; empty: the config's own
DB_NAME = "micromall_bench"
# BENCH_DRIVER=mysqldb measures the mysqlclient extra (pip install -e '.[mysqlclient]') instead of PyMySQL.
DB_DRIVER = os.environ.get("BENCH_DRIVER", "pymysql")
DB_URL = f"mysql+{DB_DRIVER}://root:@127.0.0.1:3306/{DB_NAME}?charset=utf8mb4"
REDIS_URL = "redis://127.0.0.1:6379/12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ports:
    def __init__(self) -> None:
        self.app, self.sandbox, self.verify, self.nginx_https, self.nginx_http = (free_port() for _ in range(5))


def bench_env(ports: Ports) -> dict[str, str]:
    """One environment for every process, so the sandbox, the app and the bench share keys, secret and database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT", "GUNICORN_", "PUBLIC_BASE"))}
    env.update(
        MICROMALL_ENV="development",  # the sandbox (and its generated dev pay keys) is refused in production
        MICROMALL_INSTANCE_PATH=str(WORK / "instance"),
        # Fixed: tokens signed by one worker (QR tokens) must verify in another.
        SECRET_KEY="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL, WECHAT_SANDBOX="1",
        WECHAT_API_BASE_URL=f"http://127.0.0.1:{ports.sandbox}",
        WECHATPAY_API_BASE_URL=f"http://127.0.0.1:{ports.sandbox}",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{ports.app}",  # the sandbox's pay notifications come back here
        GUNICORN_WORKERS=str(WORKERS),
        **({"GUNICORN_THREADS": THREADS} if THREADS else {}),  # else deploy/gunicorn.conf.py's default
        API_VALIDATE_RESPONSES="0",  # as production runs (development's default checks every answer)
    )
    return env


def wait_http(url: str, timeout: float = 30, **kwargs) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2, **kwargs)
            return
        except requests.RequestException:  # not listening yet
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class Procs:
    """Started processes, stopped in reverse order by their own pids (never by name)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(WORK / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.started.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.started = [(n, p) for n, p in self.started if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.started)):
            self.stop(proc)


def start_sandbox(procs: Procs, env: dict[str, str], ports: Ports) -> None:
    procs.start("sandbox", [PYTHON, "-c", "from app.cli import main; main()", "sandbox", "--port", str(ports.sandbox)],
                env)
    wait_http(f"http://127.0.0.1:{ports.sandbox}/sandbox/records")


def start_gunicorn(procs: Procs, env: dict[str, str], port: int, wsgi: str, name: str) -> subprocess.Popen:
    # --max-requests 0 (on the command line, over the config's 10,000): no worker recycled inside a load. A 10 s
    # load of C0 or S0 sends about 40,000 requests after a warm-up of 7,000, so workers were retired and booted
    # again inside the measurement (2026-12-02: all four of C0's, two of S0's), and a new worker's boot (the app's
    # 1-2 s of CPU against the bare app's few ms) fell into S0's figure, not C0's.
    proc = procs.start(name, [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                              "--max-requests", "0", wsgi],
                       {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "BENCH_SQL_DIR": str(WORK)})
    # Generous: on a shared 2-core machine under load, four workers importing the app at once took over 30 s.
    wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120)
    # /healthz answers as soon as one worker is up; the others may still be importing the app. Measuring then
    # would put their boot into the latency tail, so wait until every worker has booted and had a second.
    deadline = time.monotonic() + 120
    while len(worker_pids(proc)) < WORKERS or (WORK / f"{name}.log").read_text().count("Booting worker") < WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: not all {WORKERS} workers booted")
        time.sleep(0.2)
    with ThreadPoolExecutor(WORKERS * 4) as pool:  # every worker handles a request before any figure is taken
        list(pool.map(lambda _: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30), range(WORKERS * 8)))
    time.sleep(1)
    return proc


def worker_pids(master: subprocess.Popen) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def peak_rss_mib(pids: list[int]) -> float:
    """The highest peak resident set (VmHWM) among these processes, in MiB: what one worker needed at its worst."""
    peak_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:  # gone already
            continue
        peak_kb = max([peak_kb] + [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")])
    return peak_kb / 1024


def sql_per_request(pids: list[int], window: tuple[float, float]) -> float | None:
    """Mean SQL statements per request of the requests these workers ended inside `window` (bench/counted_app.py
    wrote them when the workers exited); None when no worker recorded any (an app that does not count)."""
    requests_seen, statements = 0, 0
    for pid in pids:
        path = WORK / f"sql-{pid}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        for ended, count in zip(record["ends"], record["statements"]):
            if window[0] <= ended <= window[1]:
                requests_seen += 1
                statements += count
    return statements / requests_seen if requests_seen else None


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(procs: Procs, ports: Ports) -> None:
    """deploy/nginx.conf on loopback (bench/nginx_loopback.py), as tests/deploy/test_nginx.py runs it."""
    tmp = WORK / "nginx"
    write_config(tmp, ports.nginx_http, ports.nginx_https, ports.app)
    procs.start("nginx", [nginx_binary(), "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-g", "daemon off;"],
                dict(os.environ))
    wait_http(f"https://127.0.0.1:{ports.nginx_https}/healthz", verify=False)


def _version(cmd: list[str], pattern: str = r"[\d]+\.[\d]+[\w.\-+~]*") -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    found = re.search(pattern, out.stdout + out.stderr)
    return found.group(0) if found else "?"


def machine_facts() -> list[tuple[str, str]]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    import gunicorn

    maria = _version(["mariadb", "--version"], r"[\d.]+-MariaDB")
    redis = _version(["redis-server", "--version"], r"v=[\d.]+")[2:]
    wrk = _version(["wrk", "--version"], r"[\d.]+-[\w+.]+")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return [
        ("machine", f"{os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB RAM, {cpu}, {platform.platform()}"),
        ("load average before the run", load),
        ("versions", f"Python {platform.python_version()}, MariaDB {maria}, Redis {redis}, "
                     f"nginx {_version([nginx_binary(), '-v'])}, gunicorn {gunicorn.__version__}, wrk {wrk}"),
        ("database driver", DB_DRIVER),
        ("servers", f"gunicorn with deploy/gunicorn.conf.py, {WORKERS} gthread workers"
                    f" ({f'{THREADS} threads each' if THREADS else 'threads: the config default'}); nginx 1 worker, TLS, "
                    "keep-alive to the client; wrk 2 threads"),
    ]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU these processes have used so far (threads included; a pid gone counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: the 14th and 15th fields of proc(5)
    return total / CLOCK_TICKS


def tree_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of a gunicorn master and its workers so far, the ones recycled meanwhile included: the
    master's own time, its reaped children's (cutime, cstime: a worker that max_requests retired during a load
    lands there when the master waits for it) and its live workers'. A sum over a fixed list of worker pids would
    lose a retired worker's time (C0 printed a negative CPU per request when a worker was recycled in its load)."""
    try:
        fields = Path(f"/proc/{master_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return own + cpu_seconds([int(p) for p in children.split()])


def server_pids(name: str) -> list[int]:
    """The pids of a shared server by its exact process name (MariaDB, Redis): only read, never signalled."""
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
