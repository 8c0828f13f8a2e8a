"""Order jobs, run by RQ (or in-process in development). Each takes ids and is safe to run twice."""
from __future__ import annotations

import logging

from app import jobs
from app.orders.cancellation import due_order_ids, expire_order

log = logging.getLogger(__name__)


@jobs.job
def expire_due_orders() -> int:
    """Periodic: cancel every unpaid order past its payment deadline and release its stock."""
    expired = sum(1 for order_id in due_order_ids() if expire_order(order_id))
    if expired:
        log.info("expired %d unpaid orders", expired)
    return expired
