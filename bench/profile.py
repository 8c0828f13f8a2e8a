"""Where a request's time goes: py-spy samples every gunicorn worker (`--subprocesses` on the master) while a
scenario's load runs again, idle samples included so waiting on MariaDB/Redis counts as the worker feels it.
Only samples inside a request (below Flask's wsgi_app) are kept: a worker waiting for a connection is not work."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from bench.procs import ROOT, WORK

# Buckets, first match wins, tested against the innermost frames first: the layer a sample is spent in.
BUCKETS = [
    ("waiting on MariaDB (socket read)", ("pymysql/connections.py", "_read_bytes")),
    ("waiting on Redis", ("redis/", ""),),
    ("WeChat Pay verify/decrypt (cryptography)", ("payments/wechatpay_v3/", ""),),
    ("official-account crypto/XML", ("official_account/security.py", ""), ("wechatpy/", "")),
    ("PyMySQL (building/parsing packets)", ("pymysql/", ""),),
    ("SQLAlchemy ORM/Core", ("sqlalchemy/", ""),),
    ("JSON logging (app/logs.py)", ("app/logs.py", ""), ("logging/", "")),
    ("Flask/Werkzeug", ("flask/", ""), ("werkzeug/", "")),
    ("json", ("json/", ""),),
]


def py_spy() -> str | None:
    for candidate in (os.environ.get("PY_SPY"), shutil.which("py-spy"), str(ROOT / ".venv/bin/py-spy"),
                      "/tmp/pyspy/bin/py-spy"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def start(master_pid: int, seconds: int, name: str) -> tuple[subprocess.Popen, Path] | None:
    binary = py_spy()
    if binary is None:
        return None
    out = WORK / f"{name}.pyspy.txt"
    proc = subprocess.Popen([binary, "record", "--pid", str(master_pid), "--subprocesses", "--idle", "--rate", "250",
                             "--duration", str(seconds), "--format", "raw", "--full-filenames", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, out


def _frames(stack: str) -> list[str]:
    return stack.split(";")


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost first
        for label, *patterns in BUCKETS:
            if any(path in frame and func in frame for path, func in patterns):
                return label
    leaf = frames[-1] if frames else "?"
    mine = str(ROOT) in leaf and "/.venv/" not in leaf
    return ("project code: " if mine else "other: ") + leaf.split(" (")[0]


def summarize(path: Path, top: int = 14) -> list[str]:
    """Share of in-request samples per layer, and the project functions with the most inclusive time."""
    buckets, inclusive, total = Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if "wsgi_app" not in stack or not count.isdigit():
            continue
        n, frames = int(count), _frames(stack)
        total += n
        buckets[_bucket(frames)] += n
        seen = set()
        for frame in frames:
            name = frame.split(" (")[0]
            where = frame[frame.find("(") + 1:frame.rfind(":")] if "(" in frame else ""
            if where.startswith(str(ROOT)) and "/.venv/" not in where and (name, where) not in seen:
                seen.add((name, where))
                inclusive[f"{name} ({where.replace(str(ROOT) + '/', '')})"] += n
    if not total:
        return ["(no in-request samples)"]
    lines = [f"{total} in-request samples; by layer:"]
    lines += [f"  {n / total:6.1%}  {label}" for label, n in buckets.most_common(top)]
    lines.append("project functions, inclusive share of in-request time:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    return lines
