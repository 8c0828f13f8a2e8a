"""Nothing lost under faults (issue 13): the production layout (two gunicorn nodes, two workers, the sandbox as its
own server, a private MariaDB and Redis) under a bounded load, while Redis is killed and frozen, a worker is killed
mid-work, MariaDB is frozen (SIGSTOP) and killed (-9) with payment notifications arriving meanwhile. Afterwards:
every order paid at WeChat is paid here once, every refund reached WeChat, every job ran, every overdue order
expired, the stock adds up, and no client got a 500 (503 with Retry-After is the answer while a backend is away).
The README's "What survives what" table is this test's list of faults."""
from __future__ import annotations

import signal
import time

import pytest
import requests

from tests.faults.cluster import Cluster, poll
from tests.faults.load import Load

INITIAL_STOCK = 500
HOLDING_STOCK = ("pending_payment", "paid", "ready", "picked_up")


def timed_get(url: str, timeout: float = 20) -> tuple[int, float]:
    started = time.monotonic()
    response = requests.get(url, timeout=timeout)
    return response.status_code, time.monotonic() - started


def more_journeys(load: Load, n: int, timeout: float = 40) -> None:
    target = load.completed() + n
    poll(lambda: load.completed() >= target, timeout, f"{n} more customer journeys")


@pytest.fixture(scope="module")
def shop(cluster: Cluster) -> tuple[int, int]:
    base = cluster.node_url(0)
    stores = requests.get(f"{base}/api/v1/stores?lat=31.2304&lng=121.4737", timeout=10).json()["items"]
    store_id = [s["id"] for s in stores if s["open_now"]][0]
    products = requests.get(f"{base}/api/v1/stores/{store_id}/products", timeout=10).json()["items"]
    sku_id = products[0]["skus"][0]["id"]
    cluster.micromall("stock", "set", "--store", str(store_id), "--sku", str(sku_id), "--quantity",
                      str(INITIAL_STOCK))
    return store_id, sku_id


def test_nothing_is_lost_under_faults(cluster: Cluster, shop: tuple[int, int]) -> None:
    store_id, sku_id = shop
    products_url = f"{cluster.node_url(1)}/api/v1/stores/{store_id}/products"
    load = Load([cluster.node_url(0), cluster.node_url(1)], cluster.sandbox_url, store_id, sku_id)
    load.start()
    try:
        more_journeys(load, 4)

        # Redis killed (-9, no persistence: RQ's queue is gone with it) and started again empty.
        cluster.kill("redis")
        status, _ = timed_get(products_url)
        assert status == 200  # the product list from the database
        ready = requests.get(f"{cluster.node_url(0)}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        more_journeys(load, 4)  # orders, payments and refunds go on; their jobs wait in the outbox
        cluster.start_redis()

        # A worker killed while it works: its jobs are handed out again after the lease.
        more_journeys(load, 2)
        cluster.kill("worker0")
        more_journeys(load, 3)

        # MariaDB frozen: answers stay quick (503 with Retry-After, or the cached page), /healthz instant.
        cluster.signal("mariadb", signal.SIGSTOP)
        try:
            status, took = timed_get(f"{cluster.node_url(0)}/healthz")
            assert status == 200 and took < 1.0
            status, took = timed_get(products_url)
            assert status in (200, 503) and took < 10.0, (status, took)
            status, took = timed_get(f"{cluster.node_url(0)}/readyz")
            assert status == 503 and took < 10.0, (status, took)
        finally:
            cluster.signal("mariadb", signal.SIGCONT)
        more_journeys(load, 3)

        # MariaDB killed while WeChat Pay notifies: WeChat retries, each notification is applied once after.
        cluster.kill("mariadb")
        poll(lambda: requests.get(f"{cluster.node_url(0)}/readyz", timeout=10).status_code == 503, 20,
             "readyz to see the database gone")
        cluster.start_mariadb()
        more_journeys(load, 3, timeout=60)

        # Redis frozen: the product list answers within a second from the database.
        cluster.signal("redis", signal.SIGSTOP)
        try:
            status, took = timed_get(products_url)
            assert status == 200 and took < 3.0, (status, took)
        finally:
            cluster.signal("redis", signal.SIGCONT)
        more_journeys(load, 2)
    finally:
        load.stop()

    assert not load.failures, load.failures[:10]
    assert load.statuses[500] == 0
    check_converged(cluster, load, store_id, sku_id)


def check_converged(cluster: Cluster, load: Load, store_id: int, sku_id: int) -> None:
    def settled() -> bool:
        waiting = cluster.sql("SELECT status, target, last_error FROM job_outbox WHERE status <> 'done'")
        overdue = cluster.sql("SELECT order_no FROM orders WHERE status = 'pending_payment' "
                              "AND expires_at < UTC_TIMESTAMP(6)")
        requested = cluster.sql("SELECT out_refund_no FROM refunds WHERE status = 'requested'")
        unapplied = [j.order_no for j in load.journeys if j.paid_at_wechat and cluster.sql(
            "SELECT 1 FROM payments WHERE out_trade_no = %s AND transaction_id IS NULL", j.order_no)]
        return not (waiting or overdue or requested or unapplied)

    poll(settled, 90, "every job run, overdue order expired, refund at WeChat, payment applied", every=1)
    assert cluster.sql("SELECT COUNT(*) FROM job_outbox WHERE status = 'failed'")[0][0] == 0

    paid = [j for j in load.journeys if j.paid_at_wechat]
    assert paid, "the load paid nothing"
    for journey in paid:  # paid once: one transaction, at most one transition to paid
        (events,), = cluster.sql("SELECT COUNT(*) FROM order_events e JOIN orders o ON o.id = e.order_id "
                                 "WHERE o.order_no = %s AND e.to_status = 'paid'", journey.order_no)
        assert events <= 1, journey
    refunds = cluster.sql("SELECT o.order_no, r.out_refund_no FROM refunds r JOIN orders o ON o.id = r.order_id")
    assert refunds, "the load refunded nothing"
    for order_no, out_refund_no in refunds:  # every refund requested reached WeChat
        at_wechat = requests.get(f"{cluster.sandbox_url}/sandbox/pay/transactions/{order_no}", timeout=10).json()
        assert out_refund_no in {r["out_refund_no"] for r in at_wechat["refunds"]}, order_no
    (held,), = cluster.sql(
        "SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id "
        f"WHERE i.sku_id = %s AND o.store_id = %s AND o.status IN ({', '.join(repr(s) for s in HOLDING_STOCK)})",
        sku_id, store_id)
    (stock,), = cluster.sql("SELECT quantity FROM store_stock WHERE sku_id = %s AND store_id = %s", sku_id, store_id)
    assert stock + held == INITIAL_STOCK
    assert cluster.restarts.get("worker0", 0) >= 1
