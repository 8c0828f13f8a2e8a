"""Statement counting for the hot paths, and the scenes borrowed from the suites that own those paths."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis.connection
from sqlalchemy import event

from app.extensions import db
# The scenes of the suites that own each path, borrowed as they are (pytest takes fixtures imported into a conftest).
from tests.checkout.conftest import live, notifier, placed  # noqa: F401
from tests.official_account.conftest import follower, served  # noqa: F401
from tests.pickup.conftest import paid_order, shop, staff_member  # noqa: F401


@dataclass
class Statements:
    sent: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sent)

    def listing(self) -> str:
        return "\n".join(f"{n:3}. {' '.join(s.split())[:160]}" for n, s in enumerate(self.sent, 1))


@contextmanager
def counting(thread: int | None = None) -> Iterator[Statements]:
    """Every statement the app's engine sends inside the block, from any thread (the served app answers in its own),
    so only the request under test may run inside it; or, given `thread` (threading.get_ident()), from that one."""
    seen = Statements()

    def _record(conn, cursor, statement, parameters, context, executemany) -> None:
        if thread is None or threading.get_ident() == thread:
            seen.sent.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _record)


@contextmanager
def redis_round_trips(thread: int | None = None) -> Iterator[list[bytes]]:
    """The commands (a pipeline's, joined) of each round trip to Redis inside the block, from any thread; or, given
    `thread`, from that one."""
    sent: list[bytes] = []
    original = redis.connection.Connection.send_packed_command

    def spy(self, command, check_health=True):
        if thread is None or threading.get_ident() == thread:
            sent.append(command if isinstance(command, bytes) else b"".join(bytes(c) for c in command))
        return original(self, command, check_health)

    redis.connection.Connection.send_packed_command = spy
    try:
        yield sent
    finally:
        redis.connection.Connection.send_packed_command = original
