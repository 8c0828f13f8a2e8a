"""Statements and client-side CPU per request of the hot write paths, in process, through the WSGI callable (no
server, no wrk: meaningful on a busy machine, unlike bench.run).

Paths: order placement (ample stock; and refused, the SKU sold out: a rush's losers; with a cold token, a warm
one, an Idempotency-Key), a payment notification (first, a repeat of its id, another id of the same transaction
once it is applied, and a copy beside a first in flight: S3's copies), a pickup redeem (first, a repeat scan of the
redeemed code, and a loser: a scan of a code whose first redeem is in flight, S5's 19 of 20). Each round prepares
its own fresh order/code outside the timed part; the timed part is one request through `app.test_client()` with
`getrusage(RUSAGE_THREAD)` around it (the CPU of the request's thread, user and kernel: the app's code,
SQLAlchemy, the driver; not MariaDB's or Redis's). Printed: the median over the rounds in microseconds, and the
statements the request sent (the tests' counter, tests/perf/conftest.py).

It borrows the test suite's scenes (sandbox, staff binding, signed notifications), so it runs under pytest, on
MariaDB + Redis (a private database and Redis db, as every test run gets):

    MICROMALL_TEST_BACKENDS=mariadb nice .venv/bin/python -m pytest -q -s -p no:randomly bench/hot_paths.py
    BENCH_ROUNDS=50 ... (default 30)   BENCH_DRIVER=mysqldb ... (mysqlclient instead of PyMySQL)
    BENCH_SHOW_SQL=1 ...   (the statements of each path's last request)
    BENCH_CPROFILE=placement ...   (cProfile, by thread CPU, over that path's timed requests: the top functions by
    own time; BENCH_SORT=cumulative, BENCH_TOP=n, BENCH_PROFILE_OUT=file for pstats)
"""
from __future__ import annotations

import cProfile
import os
import pstats
import resource
import statistics
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import event

from app.extensions import db
from tests import factories
from tests.conftest import mariadb_only
from tests.perf.conftest import counting, redis_round_trips

pytest_plugins = ["tests.conftest", "tests.perf.conftest"]

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
REDEEM = "/api/v1/staff/pickups/redeem"
_results: dict[str, tuple[float, int]] = {}


@pytest.fixture(autouse=True, scope="module")
def _driver():
    driver = os.environ.get("BENCH_DRIVER")
    if driver:
        import tests.conftest as conftest

        original = conftest._database_url
        conftest._database_url = lambda backend, root: original(backend, root).replace("+pymysql", f"+{driver}")
        yield
        conftest._database_url = original
    else:
        yield


def measure(name: str, prepare: Callable[[], Callable[[], object]], this_thread_only: bool = False) -> None:
    """prepare() sets a round up (untimed) and returns the request to time. `this_thread_only`: count only the
    statements and Redis round trips of the timed thread (another thread's request runs beside it)."""
    cpu: list[float] = []
    system: list[float] = []  # of it, in the kernel (socket calls: a round trip's price on this VM)
    statements = round_trips = 0
    profiler = cProfile.Profile(time.thread_time) if os.environ.get("BENCH_CPROFILE") == name else None
    for _ in range(ROUNDS):
        send = prepare()
        db.session.commit()
        only = threading.get_ident() if this_thread_only else None
        with counting(only) as seen, redis_round_trips(only) as trips:
            if profiler:
                profiler.enable()
            start = resource.getrusage(resource.RUSAGE_THREAD)  # this thread's CPU, not the sandbox's or jobs'
            send()
            end = resource.getrusage(resource.RUSAGE_THREAD)
            cpu.append(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime)
            system.append(end.ru_stime - start.ru_stime)
            if profiler:
                profiler.disable()
        statements, round_trips = len(seen), len(trips)
    _results[name] = (statistics.median(cpu) * 1e6, statements)
    print(f"\n{name:28} {_results[name][0]:8.0f} µs CPU (median of {ROUNDS}; {statistics.median(system) * 1e6:6.0f} "
          f"in the kernel)  {statements:3} statements  {round_trips:2} Redis round trips")
    if os.environ.get("BENCH_SHOW_SQL"):
        print(seen.listing())
    if profiler:
        if os.environ.get("BENCH_PROFILE_OUT"):
            profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])  # for pstats: callers, callees
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(int(os.environ.get("BENCH_TOP", "35")))


def _placing(client, store_id: int, sku_id: int, buyer: str, expected: int, warm: bool = False,
             keyed: bool = False):
    """A fresh buyer each round (the unpaid-order cap never bites); the timed part is the one POST /orders. `warm`:
    the buyer's token already in the token cache (a GET of their orders first, untimed), a customer's steady state
    (bench.run's S2a after each customer's first order); `keyed`: with an Idempotency-Key, as the mini-program
    sends it (S2a; S2b sends none)."""
    def prepare():
        headers = factories.login(client, f"{buyer}{time.monotonic_ns()}")
        if warm:
            assert client.get("/api/v1/orders", headers=headers).status_code == 200
            db.session.commit()
            db.session.expunge_all()  # as a served request's fresh session: nothing of the GET's left in it
        if keyed:
            headers = {**headers, "Idempotency-Key": f"k{time.monotonic_ns()}"}

        def send():
            response = client.post("/api/v1/orders", headers=headers,
                                   json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]})
            assert response.status_code == expected, response.get_json()
        return send
    return prepare


@mariadb_only
def test_order_placement(app_ctx, client, backend):
    store_id = factories.store()
    sku_id = factories.product(specs=(("中杯", 2800),), stock={store_id: 100000}).sku_ids[0]
    measure("placement", _placing(client, store_id, sku_id, "buyer", 201))
    measure("placement_warm", _placing(client, store_id, sku_id, "regular", 201, warm=True, keyed=True))
    sold_out = factories.product(specs=(("大杯", 3000),), stock={store_id: 0}).sku_ids[0]
    measure("placement_sold_out", _placing(client, store_id, sold_out, "loser", 409))
    measure("placement_sold_out_warm", _placing(client, store_id, sold_out, "rusher", 409, warm=True))
    measure("placement_sold_out_keyed", _placing(client, store_id, sold_out, "retrier", 409, warm=True, keyed=True))


def _signed(notifier, body: bytes) -> dict[str, str]:
    from payments.wechatpay_v3 import rsa_sign

    timestamp, nonce = str(int(time.time())), f"n{time.monotonic_ns()}"
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return {"Content-Type": "application/json", "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": notifier.app.config["WECHATPAY_PUBLIC_KEY_ID"],
            "Wechatpay-Signature": rsa_sign(notifier.key, message)}


@mariadb_only
def test_payment_notification(app_ctx, client, notifier, backend):
    store_id = factories.store()
    sku_id = factories.product(specs=(("中杯", 2800),), stock={store_id: 100000}).sku_ids[0]
    bodies: list[bytes] = []
    resources: list[dict] = []

    def prepare_first():
        headers = factories.login(client, f"payer{time.monotonic_ns()}")
        placed = client.post("/api/v1/orders", headers=headers,
                             json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]}).get_json()
        resource = notifier.resource(placed["order_no"], placed["total_fen"])
        body = notifier.body(resource)
        bodies.append(body)
        resources.append(resource)
        return lambda: _post(client, notifier, body)

    measure("notify_first", prepare_first)
    repeats = iter(bodies)

    def prepare_repeat():
        body = next(repeats)
        return lambda: _post(client, notifier, body)
    measure("notify_repeat", prepare_repeat)
    others = iter(resources)

    def prepare_other_id():  # S3's other notification ids of a payment already applied
        body = notifier.body(next(others))
        return lambda: _post(client, notifier, body)
    measure("notify_other_id", prepare_other_id)


@mariadb_only
def test_payment_notification_copy(app, app_ctx, client, notifier, backend):
    """notify_copy_concurrent: S3's copies that arrive with the first (another id of the same payment). The first
    runs in another thread and stalls 30 ms right after its guarded UPDATE of the order; then the timed copy is
    sent, and waits for the first (on the payment's unique order_id, or since app/fastpath.Claim in Redis). Only
    the timed thread's CPU and statements are counted."""
    store_id = factories.store()
    sku_id = factories.product(specs=(("中杯", 2800),), stock={store_id: 100000}).sku_ids[0]

    def prepare():
        headers = factories.login(client, f"copier{time.monotonic_ns()}")
        placed = client.post("/api/v1/orders", headers=headers,
                             json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]}).get_json()
        resource = notifier.resource(placed["order_no"], placed["total_fen"])
        body, copy = notifier.body(resource), notifier.body(resource)
        return lambda: _post(app.test_client(), notifier, body), lambda: _post(client, notifier, copy)

    measure_beside_a_stalled_first("notify_copy_concurrent", prepare)


def measure_beside_a_stalled_first(name: str, prepare: Callable[[], tuple[Callable[[], object], Callable[[], object]]]
                                   ) -> None:
    """measure() of the second of two requests: prepare() returns both (untimed); the first runs in another thread
    and stalls 30 ms right after its guarded UPDATE of the order (the row locked, nothing committed); then the
    second is timed, on this thread, which counts its CPU and statements alone."""
    first: dict[str, object] = {}
    locked = threading.Event()

    def stall(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread() is first.get("thread") and statement.startswith("UPDATE orders"):
            locked.set()
            time.sleep(0.03)

    def prepare_both():
        send_first, send_second = prepare()
        locked.clear()

        def send():
            thread = threading.Thread(target=send_first)
            first["thread"] = thread
            thread.start()
            assert locked.wait(10)
            send_second()
            thread.join()
        return send

    event.listen(db.engine, "after_cursor_execute", stall)
    try:
        measure(name, prepare_both, this_thread_only=True)
    finally:
        event.remove(db.engine, "after_cursor_execute", stall)


def _post(client, notifier, body: bytes) -> None:
    response = client.post("/payments/wechatpay/notify", data=body, headers=_signed(notifier, body))
    assert response.status_code == 204, response.get_data(as_text=True)


@mariadb_only
def test_pickup_redeem(app_ctx, client, shop, paid_order, staff_member, backend):
    staff = staff_member(shop.store_id)
    codes: list[str] = []

    def prepare_first():
        order = paid_order(shop, f"picker{time.monotonic_ns()}")
        codes.append(order.code)

        def send():
            assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
        return send

    measure("redeem_first", prepare_first)
    repeats = iter(codes)

    def prepare_repeat():
        code = next(repeats)

        def send():
            response = client.post(REDEEM, headers=staff.headers, json={"code": code})
            assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_redeemed"
        return send
    measure("redeem_repeat", prepare_repeat)


@mariadb_only
def test_pickup_redeem_loser(app, app_ctx, client, shop, paid_order, staff_member, backend):
    """redeem_loser_concurrent: S5's 19 losers of 20. The first redeem runs in another thread and stalls 30 ms right
    after its guarded UPDATE of the order (the row locked, nothing committed); then the timed redeem of the same
    code is sent, and waits for the first (on the row lock, or since app/fastpath.Claim in Redis). Only the timed
    thread's CPU and statements are counted."""
    staff = staff_member(shop.store_id)

    def prepare():
        order = paid_order(shop, f"rushed{time.monotonic_ns()}")

        def send_first():
            assert app.test_client().post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200

        def send_second():
            response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
            assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_redeemed"
        return send_first, send_second

    measure_beside_a_stalled_first("redeem_loser_concurrent", prepare)
