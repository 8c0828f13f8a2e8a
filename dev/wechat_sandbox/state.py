"""The sandbox's memory: what it issued and what it was sent. One lock guards it; the server is threaded."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from wechat_sandbox.settings import SandboxSettings


@dataclass
class Record:
    kind: str  # the API it came to, e.g. "message/subscribe/send", "v3/pay/transactions/jsapi"
    payload: Any
    at: float = field(default_factory=time.time)


class SandboxState:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.records: list[Record] = []
        # Per-area state owned by the modules that serve it (weixin_api, pay_v3); each keeps its dicts here so a
        # reset clears everything at once.
        self.areas: dict[str, dict[str, Any]] = {}

    def area(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self.areas.setdefault(name, {})

    def record(self, kind: str, payload: Any) -> None:
        with self.lock:
            self.records.append(Record(kind, payload))

    def records_of(self, kind: str | None = None) -> list[Record]:
        with self.lock:
            return [r for r in self.records if kind is None or r.kind == kind]

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.areas.clear()
