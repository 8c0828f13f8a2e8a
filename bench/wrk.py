"""Running wrk (Debian's package) over a list of pre-built requests, and reading its figures back."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import WORK

SCRIPT = Path(__file__).with_name("replay.lua")
THREADS = 2  # one per core; wrk shares the 2 cores with gunicorn, MariaDB and Redis, as a real client would not

Request = tuple[str, str, dict[str, str], bytes | None]  # method, path, headers, body


@dataclass
class Result:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int  # socket errors and any status the scenario does not expect
    timeouts: int  # wrk's own count (each 2 s, connections whose request is older than --timeout)
    statuses: dict[int, int] = field(default_factory=dict)
    window: tuple[float, float] = (0.0, 0.0)  # time.time() around the load: which requests' SQL counts are its own
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per request by process group (bench/run.py)


def _lua_str(value: str | bytes) -> str:
    """A Lua string literal for any bytes: printable ASCII as is, everything else as a 3-digit decimal escape."""
    data = value.encode() if isinstance(value, str) else value
    return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:03d}" for c in data) + '"'


def write_data(name: str, reqs: list[Request]) -> Path:
    path = WORK / f"{name}.data.lua"
    with open(path, "w") as out:
        out.write("return {\n")
        for method, target, headers, body in reqs:
            hdrs = ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in headers.items())
            out.write(f"{{{_lua_str(method)}, {_lua_str(target)}, {{{hdrs}}}, "
                      f"{_lua_str(body) if body is not None else 'nil'}}},\n")
        out.write("}\n")
    return path


def run(name: str, base_url: str, reqs: list[Request], *, connections: int, seconds: int, once: bool,
        expected: set[int]) -> Result:
    """once=True: every request is sent one time (count-bounded), and `seconds` is the ceiling on time; else the
    list is cycled for exactly `seconds`. Both ways wrk stops by itself."""
    data = write_data(name, reqs)
    marks = WORK / f"{name}.marks"
    shutil.rmtree(marks, ignore_errors=True)
    marks.mkdir(parents=True)
    env = {**os.environ, "BENCH_DATA": str(data), "BENCH_THREADS": str(THREADS), "BENCH_ONCE": "1" if once else "0",
           "BENCH_MARKS": str(marks)}
    cmd = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT),
           base_url]
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + seconds + 15
    while proc.poll() is None:
        # wrk sleeps its whole -d even when every thread has stopped; SIGINT ends the sleep and it reports at once.
        if once and len(list(marks.iterdir())) >= THREADS:
            proc.send_signal(signal.SIGINT)
            break
        if time.monotonic() > deadline:
            proc.kill()
            break
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=60)
    ended = time.time()
    (WORK / f"{name}.wrk.txt").write_text(" ".join(cmd) + "\n" + out)
    line = next((l for l in out.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures for {name}:\n{out[-2000:]}")
    raw = json.loads(line[len("BENCHJSON "):])
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    # Count-bounded: every answer counted by the script (the list, plus the few sent while wrk was being stopped)
    # over the script's own span; time-bounded: wrk's count over its -d.
    span_s = (raw["span_us"] if once else raw["wrk_duration_us"]) / 1e6
    answered = sum(statuses.values()) if once else raw["requests"]
    unexpected = sum(n for status, n in statuses.items() if status not in expected)
    return Result(requests=answered, rps=answered / span_s if span_s else 0.0,
                  p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000, p999_ms=raw["p999_us"] / 1000,
                  max_ms=raw["max_us"] / 1000,
                  # Count-bounded runs end only when every request has its answer, so a lost one cannot hide there.
                  errors=raw["socket_errors"] + unexpected + (0 if once else raw["timeouts"]), timeouts=raw["timeouts"],
                  statuses=statuses, window=(started, ended))
