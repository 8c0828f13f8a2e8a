"""Periodic jobs: (job target, every N seconds). RQ's CronScheduler enqueues them (`micromall cron`, or the
thread `micromall worker` starts); each is safe to run twice, so an overlap or a restart does no harm."""
from __future__ import annotations

PERIODIC: tuple[tuple[str, int], ...] = (
    ("app.orders.jobs:expire_due_orders", 60),
)
