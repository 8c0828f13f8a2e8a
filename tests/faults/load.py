"""A bounded client: a few threads, each running customer journeys one after another against both nodes, as the
mini-program would, and recording every answer. A 503 is honoured (waits, capped, and tries again, as the
mini-program's retry does); anything else of 500 or above, or a dropped connection, is a failure of ours."""
from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

KINDS = ("paid", "paid_then_cancelled", "left_unpaid", "cancelled_unpaid")


@dataclass
class Journey:
    kind: str
    order_no: str | None = None
    paid_at_wechat: bool = False
    cancelled: bool = False


@dataclass
class Load:
    nodes: list[str]
    sandbox_url: str
    store_id: int
    sku_id: int
    threads: int = 3
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    journeys: list[Journey] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _count: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- HTTP with the client's manners -------------------------------------------------------------------------
    def call(self, method: str, url: str, attempts: int = 30, **kwargs) -> requests.Response | None:
        for _ in range(attempts):
            try:
                response = requests.request(method, url, timeout=20, **kwargs)
            except requests.RequestException as exc:
                with self._lock:
                    self.failures.append(f"{method} {url}: {type(exc).__name__}")
                return None
            with self._lock:
                self.statuses[response.status_code] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.failures.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
            if response.status_code != 503:
                return response
            assert response.headers.get("Retry-After"), f"503 without Retry-After: {url}"
            time.sleep(min(1.0, float(response.headers["Retry-After"])))
        return None

    def api(self, i: int, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.call(method, f"{self.nodes[i % len(self.nodes)]}/api/v1{path}", headers=headers, **kwargs)

    # --- one customer -------------------------------------------------------------------------------------------
    def journey(self, i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        self.api(i, "GET", f"/stores/{self.store_id}/products?per_page=5")
        login = self.api(i, "POST", "/auth/login", json={"code": f"sandbox-fault{i}.{secrets.token_hex(4)}"})
        if login is None or login.status_code != 200:
            return
        token = login.json()["token"]
        placed = self.call("POST", f"{self.nodes[(i + 1) % len(self.nodes)]}/api/v1/orders", json={
            "store_id": self.store_id, "items": [{"sku_id": self.sku_id, "quantity": 1}]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"fault-{i}"})
        if placed is None or placed.status_code != 201:
            return
        journey = Journey(kind, placed.json()["order_no"])
        with self._lock:
            self.journeys.append(journey)
        if kind == "left_unpaid":
            return
        pay = self.api(i, "POST", f"/orders/{journey.order_no}/pay", token)
        if pay is None or pay.status_code != 200:
            return
        if kind == "cancelled_unpaid":
            cancelled = self.api(i, "POST", f"/orders/{journey.order_no}/cancel", token)
            journey.cancelled = cancelled is not None and cancelled.status_code < 300
            return
        paid = self.call("POST", f"{self.sandbox_url}/sandbox/pay/transactions/{journey.order_no}/pay",
                         json={"notify": True})
        journey.paid_at_wechat = paid is not None and paid.status_code < 300
        if kind == "paid_then_cancelled" and journey.paid_at_wechat:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not self._stop.is_set():
                shown = self.api(i, "GET", f"/orders/{journey.order_no}", token)
                if shown is not None and shown.status_code == 200 and shown.json()["status"] == "paid":
                    cancelled = self.api(i, "POST", f"/orders/{journey.order_no}/cancel", token)
                    journey.cancelled = cancelled is not None and cancelled.status_code < 300
                    return
                time.sleep(0.2)

    def _worker(self) -> None:
        while not self._stop.is_set():
            self.journey(next(self._count))

    def start(self) -> ThreadPoolExecutor:
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="load")
        self.futures = [self.pool.submit(self._worker) for _ in range(self.threads)]
        return self.pool

    def completed(self) -> int:
        with self._lock:
            return len(self.journeys)

    def stop(self) -> None:
        self._stop.set()
        for future in self.futures:
            future.result(timeout=120)
        self.pool.shutdown()
