"""`.venv/bin/python -m bench.run`: every scenario of issue #8 against gunicorn on MariaDB and Redis, one table.

Per run: database `micromall_bench` dropped and recreated, Redis db 12 flushed, schema, seed, then the WeChat
sandbox, gunicorn (deploy/gunicorn.conf.py, fixed workers) and nginx as their own processes on loopback; wrk drives
each scenario, each bounded in count and time; gates are read from the database after each. Then the slowest path
(lowest ratio to its ceiling) is loaded once more under py-spy. Exit 1 if a gate fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from bench import gates, scenario_data as data
from bench.procs import (RESULTS, WORK, Ports, Procs, bench_env, cpu_seconds, machine_facts, peak_rss_mib,
                         server_pids, sql_per_request, start_gunicorn, start_nginx, start_sandbox, tree_cpu_seconds,
                         worker_pids)
from bench.report import render
from bench.wrk import Result, run as wrk_run

# Sized so each count-bounded scenario takes ~10-20 s here; BOUND_S stops any of them that has not finished.
N_BUYERS, N_RUSH = 2048, 1500  # S2b: buyers taking turns, order attempts
N_AMPLE, AMPLE_EACH = 400, 2  # S2a: customers, orders each (ample stock)
N_PAY, N_PICKUP = 150, 100  # S3 orders (x10 notifications), S5 codes (x20 redeems)
N_MESSAGES = 2000  # S4
BOUND_S = 60


PROJECT_APP = "bench.counted_app:app"  # app:create_app() with a count of SQL statements per request
BARE_APP = "bench.bare_app:app"  # C0
FLOOR_APP = "bench.floor_app:app"  # the F rows: a path's round trips from a bare Flask app, nothing else


@dataclass
class Row:
    name: str
    conns: int
    result: Result
    vs_c0: str  # req/s over the bare Flask app's (C0) at the same connections: the ratio that counts
    vs_s0: str  # over the project's own /healthz (S0), or over the scenario's other ceiling where it has one
    gate: gates.Gate | None = None
    note: str = ""
    rss_mib: float = 0.0  # peak RSS of the busiest worker of the gunicorn that served it
    sql: float | None = None  # SQL statements per request, mean over the scenario's requests


def ratio(result: Result, ceiling: Result) -> float:
    return result.rps / ceiling.rps if ceiling.rps else 0.0


def vs(result: Result, ceiling: Result | None) -> str:
    """The ratio as the table prints it; "—" when the ceiling's scenario was left out (--only)."""
    return "—" if ceiling is None else f"{ratio(result, ceiling):.2f}"


def _wait_paid(app, order_nos: list[str], timeout: float = 60) -> list[str]:
    """The sandbox's notifications are applied by the app; return the pickup codes once every order has one."""
    from sqlalchemy import text

    from app.extensions import db

    listed = "(" + ",".join(f"'{n}'" for n in order_nos) + ")"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            codes = [r[0] for r in db.session.execute(text(
                f"SELECT c.code FROM pickup_codes c JOIN orders o ON o.id = c.order_id "
                f"WHERE o.order_no IN {listed} AND o.status = 'paid'"))]
        if len(codes) == len(order_nos):
            return codes
        time.sleep(0.5)
    raise RuntimeError(f"only {len(codes)} of {len(order_nos)} orders paid through the sandbox in {timeout} s")


def _stock(app, store_id: int, skus: list[int]) -> dict[int, int]:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        return {k: q for k, q in db.session.execute(text(
            "SELECT sku_id, quantity FROM store_stock WHERE store_id = :s AND sku_id IN (" + ",".join(map(str, skus))
            + ")"), {"s": store_id})}


def _sell_out_s(app, store_id: int, sku_id: int) -> float:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        first, last = db.session.execute(text(
            "SELECT MIN(o.created_at), MAX(o.created_at) FROM orders o JOIN order_items i ON i.order_id = o.id "
            "WHERE o.store_id = :s AND i.sku_id = :k"), {"s": store_id, "k": sku_id}).one()
    return (last - first).total_seconds() if first and last else 0.0


class Bench:
    def __init__(self, app, seeded, ports: Ports, env: dict[str, str], procs: Procs) -> None:
        self.app, self.s, self.ports, self.env, self.procs = app, seeded, ports, env, procs
        self.app_url = f"http://127.0.0.1:{ports.app}"
        self.sandbox_url = f"http://127.0.0.1:{ports.sandbox}"
        self.rows: list[Row] = []
        self.master = None
        self.served: list[Row] = []  # rows measured on the current gunicorn: RSS and SQL counts filled at its stop
        self.nginx_url = f"https://127.0.0.1:{ports.nginx_https}"
        self.openid = {t: f"bench-buyer-{i}" for i, t in enumerate(seeded.customer_tokens)}
        self.tokens = iter(seeded.customer_tokens[N_BUYERS:])  # fresh buyers for S3/S5 orders (and the profile)
        self.only: set[str] | None = None  # --only: the scenarios to run (C0 always runs: every ratio needs it)

    def wants(self, scenario: str) -> bool:
        return self.only is None or scenario in self.only

    def take_tokens(self, n: int) -> list[str]:
        return [next(self.tokens) for _ in range(n)]

    def load(self, name, reqs, conns, seconds, once, expected, url=None, server=None) -> Result:
        # Where the machine's CPU went during the load, per request: the app's workers, MariaDB, Redis (the rest of
        # the two cores is wrk, nginx and the kernel). Says whether a path is held up by its own code or the server.
        # `server`: the gunicorn that serves `url` when it is not the project's.
        server = server or self.master
        master = server.pid if server else None
        servers = {"mariadb": server_pids("mariadbd"), "redis": server_pids("redis-server")}

        def used() -> dict[str, float]:
            return {"app": tree_cpu_seconds(master) if master else 0.0,
                    **{k: cpu_seconds(v) for k, v in servers.items()}}

        before = used()
        result = wrk_run(name, url or self.app_url, reqs, connections=conns, seconds=seconds, once=once,
                         expected=expected)
        result.cpu_ms = {k: (v - before[k]) * 1000 / max(result.requests, 1) for k, v in used().items()}
        print(f"  {time.strftime('%H:%M:%S')} {name}: {result.requests} requests, {result.rps:.0f}/s, p99 {result.p99_ms:.1f} ms, "
              f"statuses {result.statuses}", flush=True)
        return result

    def fresh_app(self, wsgi: str = PROJECT_APP) -> None:
        """A new gunicorn (same settings, same port, so nginx's upstream holds): each scenario starts from booted,
        unrecycled workers (and start_gunicorn turns max_requests recycling off: a long load would recycle them)."""
        self.stop_app()
        self.master = start_gunicorn(self.procs, self.env, self.ports.app, wsgi, "gunicorn")

    def stop_app(self) -> None:
        if self.master is not None:
            self.stop_serving(self.master)
            self.master = None

    def stop_serving(self, master) -> None:
        """Stop a gunicorn and put its workers' peak RSS and SQL counts on the rows it served."""
        pids = worker_pids(master)
        rss = peak_rss_mib(pids)
        self.procs.stop(master)
        for row in self.served:
            row.rss_mib = rss
            row.sql = sql_per_request(pids, row.result.window)
        self.served = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self.served.append(row)

    def floor(self, scenario: str, row: Row, ceiling: Result, once: bool = True) -> None:
        """The F row under `row`: the same count of requests (or the same seconds) at the same connections, each
        sending only the round trips the path sends (bench/floor_app.py), on a gunicorn of its own with the same
        settings. The S row's ratio to its floor is appended to its S0 column."""
        from bench.floor_app import MIXES, requests_for

        url = f"http://127.0.0.1:{self.ports.verify}"
        floor_app = start_gunicorn(self.procs, self.env, self.ports.verify, FLOOR_APP, "gunicorn-floor")
        reqs = requests_for(scenario, row.result.requests if once else 1000)
        self.load("warm-floor", reqs[:256], row.conns, BOUND_S, True, {200}, url=url, server=floor_app)
        seconds = BOUND_S if once else 10
        result = self.load(f"F-{scenario}", reqs, row.conns, seconds, once, {200}, url=url, server=floor_app)
        rss = peak_rss_mib(worker_pids(floor_app))
        self.procs.stop(floor_app)
        mix = " + ".join(f"{share:.0%} × {sql} SQL, {rt} Redis" for share, sql, rt, _ in MIXES[scenario])
        self.rows.append(Row(f"F{scenario[1:]} floor of {scenario}: {mix}", row.conns, result,
                             f"{ratio(result, ceiling):.2f}", "—", rss_mib=rss))
        row.vs_s0 += f" (F {ratio(row.result, result):.2f})"

    def scenarios(self) -> None:
        s, ok = self.s, {200}
        print("C0 bare Flask app", flush=True)
        self.fresh_app(BARE_APP)
        self.load("warm-bare", data.healthz(), 16, 3, False, ok)
        c0 = self.load("C0-bare", data.healthz(), 16, 10, False, ok)
        self.add(Row("C0 bare Flask /healthz", 16, c0, "1.00", "—"))
        self.fresh_app(BARE_APP)
        self.load("warm-bare", data.healthz(), 256, 2, False, ok)
        c0w = self.load("C0-bare-256", data.healthz(), 256, 8, False, ok)
        self.add(Row("C0 bare Flask /healthz, 256 conns", 256, c0w, "1.00", "—"))

        s0 = s0w = None  # the project's /healthz rows, when S0 is run
        if self.wants("S0"):
            print("S0 bare endpoint", flush=True)
            self.fresh_app()
            self.load("warm-healthz", data.healthz(), 16, 3, False, ok)
            s0 = self.load("S0-direct", data.healthz(), 16, 10, False, ok)
            self.add(Row("S0 /healthz direct", 16, s0, f"{ratio(s0, c0):.2f}", "1.00"))
            self.fresh_app()
            self.load("warm-healthz", data.healthz(), 16, 2, False, ok, url=self.nginx_url)
            s0n = self.load("S0-nginx", data.healthz(), 16, 10, False, ok, url=self.nginx_url)
            self.add(Row("S0 /healthz via nginx (TLS)", 16, s0n, f"{ratio(s0n, c0):.2f}", f"{ratio(s0n, s0):.2f}"))
            self.fresh_app()
            self.load("warm-healthz", data.healthz(), 256, 2, False, ok)
            s0w = self.load("S0-direct-256", data.healthz(), 256, 8, False, ok)
            self.add(Row("S0 /healthz direct, 256 conns", 256, s0w, f"{ratio(s0w, c0w):.2f}", "1.00"))

        if self.wants("S1"):
            print("S1 product list", flush=True)
            self.fresh_app()
            self.load("warm-products", data.product_list(s.store_id), 16, 3, False, ok)
            s1 = self.load("S1-products", data.product_list(s.store_id), 16, 10, False, ok)
            self.add(Row("S1 store product list (20 items), warm", 16, s1, f"{ratio(s1, c0):.2f}", vs(s1, s0)))
            self.floor("S1", self.rows[-1], c0, once=False)

        if self.wants("S2A") or self.wants("S2"):
            print("S2a order placement, ample stock", flush=True)
            self.fresh_app()
            ample = self.take_tokens(N_AMPLE)
            before = _stock(self.app, s.store_id, s.other_skus)  # before the warm-up: its orders are on these SKUs
            # Warm the order path first: a worker's first order loads what it has not used yet.
            self.load("warm-orders", data.hot_sku_orders(s.store_id, s.other_skus[0], s.customer_tokens[:64], 64),
                      16, BOUND_S, True, {201})
            s2a = self.load("S2a-ample", data.ample_orders(s.store_id, s.other_skus, ample, AMPLE_EACH), 256,
                            BOUND_S, True, {201})
            self.add(Row(f"S2a order placement, ample stock, {N_AMPLE} customers", 256, s2a,
                         f"{ratio(s2a, c0w):.2f}", vs(s2a, s0w),
                         gates.ample_orders(self.app, s.store_id, s.other_skus, before, s2a)))
            self.floor("S2a", self.rows[-1], c0w)

        if self.wants("S2B") or self.wants("S2"):
            print("S2b hot-SKU rush", flush=True)
            self.fresh_app()
            self.load("warm-orders", data.hot_sku_orders(s.store_id, s.other_skus[0], s.customer_tokens[64:128], 64),
                      16, BOUND_S, True, {201})
            reqs = data.hot_sku_orders(s.store_id, s.hot_sku, s.customer_tokens[:N_BUYERS], N_RUSH, s.coupons)
            s2 = self.load("S2-rush", reqs, 256, BOUND_S, True, {201, 409})
            gate = gates.hot_sku(self.app, s.store_id, s.hot_sku, s2)
            sold_s = _sell_out_s(self.app, s.store_id, s.hot_sku)
            self.add(Row("S2b hot-SKU rush, 256 buyers, 500 in stock", 256, s2, f"{ratio(s2, c0w):.2f}",
                         vs(s2, s0w), gate,
                         f"500 sold in {sold_s:.2f} s ({500 / sold_s if sold_s else 0:.0f} orders/s); "
                         f"{s2.requests} attempts, the rest 409 insufficient_stock"))
            self.floor("S2b", self.rows[-1], c0w)

        if self.wants("S3"):
            print("S3 payment notifications x10", flush=True)
            self.fresh_app()
            orders = data.place_orders(self.app_url, s.store_id, s.other_skus, self.take_tokens(N_PAY + 16), pay=True)
            openids = {o["order_no"]: self.openid[o["token"]] for o in orders}
            warm = data.payment_notifications(self.app.config, orders[N_PAY:], openids)
            reqs = data.payment_notifications(self.app.config, orders[:N_PAY], openids)
            verify = start_gunicorn(self.procs, self.env, self.ports.verify, "bench.verify_app:app", "gunicorn-verify")
            self.load("warm-verify", reqs[:64], 16, BOUND_S, True, {204}, url=f"http://127.0.0.1:{self.ports.verify}")
            s3c = self.load("S3-verify-only", reqs, 16, BOUND_S, True, {204}, url=f"http://127.0.0.1:{self.ports.verify}",
                            server=verify)
            self.stop_serving(verify)
            self.load("warm-notify", warm, 16, BOUND_S, True, {204})
            s3 = self.load("S3-notify", reqs, 16, BOUND_S, True, {204})
            gate = gates.one_transition_per_order(self.app, [o["order_no"] for o in orders[:N_PAY]], s3)
            self.rows.append(Row("S3c ceiling: verify + decrypt only", 16, s3c, f"{ratio(s3c, c0):.2f}", "—"))
            self.add(Row("S3 payment notifications, each x10", 16, s3, f"{ratio(s3, c0):.2f}",
                                 f"{vs(s3, s0)} (S3c {ratio(s3, s3c):.2f})", gate))
            self.floor("S3", self.rows[-1], c0)

        if self.wants("S4"):
            print("S4 official-account messages, safe mode", flush=True)
            self.fresh_app()
            self.load("warm-official-account", data.official_account_messages(self.app.config, 64), 16, BOUND_S, True, ok)
            s4 = self.load("S4-official-account", data.official_account_messages(self.app.config, N_MESSAGES), 16,
                           BOUND_S, True, ok)
            self.add(Row("S4 official-account messages, safe mode", 16, s4, f"{ratio(s4, c0):.2f}", vs(s4, s0),
                                 gates.fast_enough(s4)))
            self.floor("S4", self.rows[-1], c0)

        if self.wants("S5"):
            print("S5 pickup redeem x20 per code", flush=True)
            self.fresh_app()
            codes = self.paid_codes(N_PICKUP + 8)
            self.load("warm-redeem", data.redeems(codes[N_PICKUP:], s.staff_token), 20, BOUND_S, True, {200, 409})
            codes = codes[:N_PICKUP]
            s5 = self.load("S5-redeem", data.redeems(codes, s.staff_token), 20, BOUND_S, True, {200, 409})
            self.add(Row("S5 pickup redeem, 20 concurrent per code", 20, s5, f"{ratio(s5, c0):.2f}", vs(s5, s0),
                                 gates.one_success_per_code(self.app, codes, s5)))
            self.floor("S5", self.rows[-1], c0)

    def paid_codes(self, n: int) -> list[str]:
        orders = data.place_orders(self.app_url, self.s.store_id, self.s.other_skus, self.take_tokens(n), pay=True)
        nos = [o["order_no"] for o in orders]
        data.pay_at_sandbox(self.sandbox_url, nos)
        return _wait_paid(self.app, nos)

    def profile_load(self, name: str):
        """A fresh load of the same shape as the scenario, ~10 s, for the profiler."""
        s = self.s
        if name.startswith("S1"):
            return data.product_list(s.store_id), 16, False
        if name.startswith("S2"):
            from sqlalchemy import text

            from app.extensions import db

            with self.app.app_context():  # every attempt a real order this time: the path that writes
                db.session.execute(text("UPDATE store_stock SET quantity = 1000000 WHERE sku_id = :k"), {"k": s.hot_sku})
                db.session.commit()
            return data.hot_sku_orders(s.store_id, s.hot_sku, s.customer_tokens[:N_BUYERS], 20000), 256, False
        if name.startswith("S3"):
            orders = data.place_orders(self.app_url, s.store_id, s.other_skus, self.take_tokens(150), pay=True)
            return data.payment_notifications(self.app.config, orders,
                                              {o["order_no"]: self.openid[o["token"]] for o in orders}), 16, True
        if name.startswith("S4"):
            return data.official_account_messages(self.app.config, 3000), 16, True
        return data.redeems(self.paid_codes(100), s.staff_token), 20, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy pass over the slowest path")
    parser.add_argument("--only", help="comma-separated scenarios to run, e.g. S0,S1 (C0 always runs); "
                                       "a ratio to a scenario left out prints as —")
    args = parser.parse_args(argv)
    command = " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    ports = Ports()
    env = bench_env(ports)
    os.environ.clear()
    os.environ.update(env)  # this process (seed, gates, signing) shares every setting and key with the servers
    facts = machine_facts()
    from app import create_app
    from bench.seed import make_schema, recreate_database, seed

    recreate_database()
    app = create_app()
    schema = make_schema(app, env)
    seeded = seed(app, customers=N_BUYERS + N_AMPLE + N_PAY + N_PICKUP + 600)
    procs = Procs()
    profile_lines: list[str] = []
    try:
        start_sandbox(procs, env, ports)
        bench = Bench(app, seeded, ports, env, procs)
        if args.only:
            bench.only = {name.strip().upper() for name in args.only.split(",") if name.strip()}
        bench.fresh_app()
        start_nginx(procs, ports)
        bench.scenarios()
        if not args.no_profile:
            profile_lines = profile_slowest(bench)
        bench.stop_app()  # the last rows' RSS and SQL counts come with their gunicorn's stop
    finally:
        procs.stop_all()
    # Other work on this machine shares its 2 cores: the load at the end says whether the run had them alone.
    facts.append(("load average after the run", " ".join(open("/proc/loadavg").read().split()[:3])))
    report = render(bench.rows, facts, command, schema, started)
    if profile_lines:
        report += "\n## Profile of the slowest paths\n\n```\n" + "\n".join(profile_lines) + "\n```\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(report)
    print("\n" + report)
    return 0 if all(r.gate.ok for r in bench.rows if r.gate) else 1


def profile_slowest(bench: Bench, count: int = 2) -> list[str]:
    """The `count` paths furthest from their ceiling, each loaded again on a fresh gunicorn under py-spy."""
    from bench import profile

    candidates = [r for r in bench.rows if r.name[:2] in ("S1", "S2", "S3", "S4", "S5") and not r.name.startswith("S3c")]
    bench.stop_app()  # the scenarios' rows get their RSS and SQL counts; the profile's loads are no rows
    lines: list[str] = []
    for row in sorted(candidates, key=lambda r: float(r.vs_c0))[:count]:
        bench.fresh_app()
        reqs, conns, once = bench.profile_load(row.name)
        started = profile.start(bench.master.pid, 12, "profile-" + row.name[:2])
        if started is None:
            return ["py-spy not found (pip install py-spy, or set PY_SPY): profile skipped"]
        spy, out = started
        time.sleep(1)  # py-spy attaches to the workers first
        result = bench.load("profile-" + row.name[:2], reqs, conns, 10, once, {200, 201, 204, 409})
        spy.wait(timeout=60)
        lines += [f"== {row.name} (ratio to C0 {row.vs_c0}) loaded again for 10 s under py-spy (250 Hz, all "
                  f"{os.environ.get('GUNICORN_WORKERS')} workers, idle included): {result.rps:.0f} req/s",
                  *profile.summarize(out), ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
