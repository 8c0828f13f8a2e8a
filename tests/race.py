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


def first_fails_while_second_waits(engine: Any, monkeypatch: Any, send_first: Callable[[], Any],
                                   send_second: Callable[[], Any], failing: str) -> tuple[Any, Any]:
    """Two copies of one request (app/fastpath.Claim): the first, on its own thread, holds the order's row and the
    claim until the second has found the claim busy and waits on it, then fails at the statement starting with
    `failing`, or at its COMMIT (`failing="COMMIT"`), as if the database went away. Returns both answers. The first is whichever
    thread sends the first `UPDATE orders` (a live server serves on threads of its own)."""
    from sqlalchemy import event

    from app import fastpath

    first: dict[str, Any] = {}
    locked, waiting = threading.Event(), threading.Event()
    wait = fastpath.Claim.wait

    def waits(claim: Any) -> Any:
        waiting.set()
        return wait(claim)

    def fail_first(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("UPDATE orders") and "serving" not in first:
            first["serving"] = threading.current_thread()
        if threading.current_thread() is first.get("serving"):
            if statement.startswith("UPDATE orders"):
                locked.set()
                assert waiting.wait(10)  # the second found the claim busy
                time.sleep(0.02)  # and is blocked in Redis
            elif statement.startswith(failing):
                conn.connection.dbapi_connection.close()  # the server rolls back; the statement fails

    def fail_commit(conn) -> None:
        if failing == "COMMIT" and threading.current_thread() is first.get("serving"):
            conn.connection.dbapi_connection.close()  # the server rolls back; the COMMIT fails

    monkeypatch.setattr(fastpath.Claim, "wait", waits)
    event.listen(engine, "before_cursor_execute", fail_first)
    event.listen(engine, "commit", fail_commit)
    try:
        thread = threading.Thread(target=lambda: first.__setitem__("answer", send_first()))
        thread.start()
        assert locked.wait(10)
        second = send_second()
        thread.join(10)
    finally:
        event.remove(engine, "before_cursor_execute", fail_first)
        event.remove(engine, "commit", fail_commit)
    return first["answer"], second
