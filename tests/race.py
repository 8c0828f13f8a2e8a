"""Race injection: start functions at the same instant, each on its own thread (saleor's tests/race_condition.py
habit), to show that stock, payments and pickups hold under real concurrency; and waiting for what happens on
another thread or process (a notification delivered, a job run)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable


def run_together(functions: list[Callable[[], Any]], timeout_s: float = 120) -> list[Any]:
    """Run every function on its own thread behind one barrier; return their results in order."""
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)

    def runner(i: int, fn: Callable[[], Any]) -> None:
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    return results


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
