"""Order jobs, run by RQ (or in-process in development). Each takes ids and is safe to run twice."""
from __future__ import annotations

import logging

from app import jobs
from app.orders.cancellation import due_order_ids, expire_order
from app.uow import item_unit

log = logging.getLogger(__name__)


@jobs.job
def expire_due_orders() -> int:
    """Periodic: cancel every unpaid order past its payment deadline and release its stock."""
    expired = 0
    for order_id in due_order_ids():
        with item_unit(f"expiry of order {order_id}"):
            expired += expire_order(order_id)
    if expired:
        log.info("expired %d unpaid orders", expired)
    return expired
