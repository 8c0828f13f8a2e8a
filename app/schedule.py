"""Periodic jobs: (job target, every N seconds). RQ's CronScheduler enqueues them (`micromall cron`, or the
thread `micromall worker` starts); each is safe to run twice, so an overlap or a restart does no harm."""
from __future__ import annotations

from rq.cron import CronScheduler

PERIODIC: tuple[tuple[str, int], ...] = (
    ("app.orders.jobs:expire_due_orders", 60),
    ("app.pickup.noshow:refund_no_shows", 300),
    ("app.pickup.shipping:report_unreported_pickups", 600),
    ("app.commission.payouts:reconcile_payouts", 600),
)


def build_cron_scheduler(connection, install_signal_handlers: bool = True) -> CronScheduler:
    from app.jobs import QUEUE_NAME, execute

    class Scheduler(CronScheduler):
        def _install_signal_handlers(self) -> None:
            if install_signal_handlers:  # only the main thread may set them; a thread inside the worker must not
                super()._install_signal_handlers()

    scheduler = Scheduler(connection=connection)
    for target, every in PERIODIC:
        scheduler.register(execute, QUEUE_NAME, args=(target,), interval=every, name=target)
    return scheduler
