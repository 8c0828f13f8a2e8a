"""The table `bench.run` prints and writes to bench/results/latest.md, with the notes that say how to read it."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.run import Row


def render(rows: list[Row], facts: list[tuple[str, str]], command: str, schema: str, started: str) -> str:
    lines = [f"# micromall bench — {started}", "", f"command: `{command}`", ""]
    lines += [f"- {k}: {v}" for k, v in facts] + [f"- schema: {schema}", ""]
    lines += ["| scenario | conns | requests | req/s | p50 ms | p99 ms | p99.9 ms | errors | ratio to C0 | ratio to S0 | "
              "SQL/req | CPU ms/req app / MariaDB / Redis | peak RSS/worker MiB | gate |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        x = r.result
        gate = "—" if r.gate is None else ("PASS" if r.gate.ok else "FAIL")
        sql = "—" if r.sql is None else f"{r.sql:.1f}"
        cpu = " / ".join(f"{x.cpu_ms[k]:.2f}" for k in ("app", "mariadb", "redis")) if x.cpu_ms else "—"
        lines.append(f"| {r.name} | {r.conns} | {x.requests} | {x.rps:.0f} | {x.p50_ms:.1f} | {x.p99_ms:.1f} | "
                     f"{x.p999_ms:.1f} | {x.errors} | {r.vs_c0} | {r.vs_s0} | {sql} | {cpu} | {r.rss_mib:.0f} | {gate} |")
    lines += ["", "Gates and notes:"]
    lines += [f"- {r.name}: {'PASS' if r.gate.ok else 'FAIL'} — {r.gate.detail}" for r in rows if r.gate]
    lines += [f"- {r.name}: {r.note}" for r in rows if r.note]
    lines += ["", "Ratios: to C0 (the bare Flask app, same gunicorn settings, same run; at 256 connections for S2a and S2b) "
              "and to S0 (the project's own /healthz; S3 also to S3c, verify + decrypt alone; F: to the path's floor). "
              "F rows: the floor of the stack under a path, a bare Flask app sending only the path's statements and "
              "Redis round trips on PyMySQL and redis-py, same gunicorn settings, same count and connections "
              "(bench/floor_app.py): no change to our code takes a path's ratio above its floor's without sending "
              "fewer round trips. SQL/req: statements "
              "per request counted in the workers (bench/counted_app.py), mean over the scenario's requests. Peak "
              "RSS: the highest VmHWM among the workers of the gunicorn that served the row. CPU ms/req: user + system "
              "CPU of the app's workers, of MariaDB and of Redis during the load (/proc/<pid>/stat), over its requests; "
              "two cores give 2,000 ms a second in all, wrk, nginx and the kernel taking the rest.", "",
              "errors = socket errors + answers other than the scenario's expected statuses "
              "(S2a: 201, S2b: 201/409, S3: 204, S5: 200/409 already_redeemed, others 200). Count-bounded scenarios (S2-S5) "
              "take req/s over their own span; time-bounded ones (S0, S1) over wrk's -d. gunicorn runs with "
              "--max-requests 0 and is restarted (same settings) and warmed on the scenario's own path before each "
              "scenario, so worker recycling and cold workers land in no measurement. Time-bounded errors include wrk's timeouts (> 10 s)."]
    return "\n".join(lines) + "\n"
