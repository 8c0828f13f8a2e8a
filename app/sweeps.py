"""Sweeps: every state that waits on something outside (WeChat Pay, WeChat, a worker) is found again here, so a
lost notification, a job that ran out of retries or a worker killed mid-call is caught up. Each sweep only enqueues
(outbox, de-duplicated by the job's own key) or runs idempotent work; all of them are periodic (app/schedule.py) and
`micromall reconcile` runs them once by hand."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, select, update

from app import jobs
from app.extensions import db
from app.models import NotificationLog, NotificationStatus, Refund, utcnow

log = logging.getLogger(__name__)
REFUND_REQUESTED_AFTER = timedelta(minutes=2)  # its own job normally asks WeChat within seconds
REFUND_PROCESSING_AFTER = timedelta(minutes=30)  # WeChat normally notifies the outcome well within this
SENDING_STUCK_AFTER = timedelta(seconds=90)  # a send is one bounded HTTP call; a row older than this lost its worker
BATCH = 200


@jobs.job
def sweep_refunds() -> int:
    """Refunds WeChat may not know about (`requested`) or whose outcome never came (`processing`): asked again
    with the same out_refund_no, which WeChat makes only once."""
    from app.payments.refunds import REFUND_RETRIES_S, request_refund

    now = utcnow()
    refund_ids = list(db.session.scalars(
        select(Refund.id).where(
            ((Refund.status == "requested") & (Refund.updated_at <= now - REFUND_REQUESTED_AFTER))
            | ((Refund.status == "processing") & (Refund.updated_at <= now - REFUND_PROCESSING_AFTER)))
        .order_by(Refund.id).limit(BATCH)))
    for refund_id in refund_ids:
        jobs.enqueue(request_refund, refund_id, job_id=f"refund-request-{refund_id}", retries=REFUND_RETRIES_S)
    db.session.commit()
    return len(refund_ids)


@jobs.job
def sweep_unclosed_orders() -> int:
    """Orders cancelled before payment whose WeChat order is not closed yet: closed once WeChat allows it (5 minutes
    after creation, app/payments/closing.py); closing twice is harmless."""
    from app.payments.closing import close_cancelled_at_wechat

    enqueued = close_cancelled_at_wechat()
    db.session.commit()
    return enqueued


@jobs.job
def sweep_stuck_notifications() -> int:
    """Notification rows left `sending` by a worker that died mid-call: marked failed so the job sends them again.
    A message may then go twice (if WeChat took it just before the worker died); once too often beats never."""
    from app.notifications.sending import RETRIES_S, send_order_notification

    cutoff = utcnow() - SENDING_STUCK_AFTER
    stuck = db.session.execute(
        select(NotificationLog.id, NotificationLog.order_id, NotificationLog.kind)
        .where(NotificationLog.status == NotificationStatus.SENDING, NotificationLog.updated_at <= cutoff)
        .limit(BATCH)).all()
    for row_id, order_id, kind in stuck:
        db.session.execute(update(NotificationLog).where(
            and_(NotificationLog.id == row_id, NotificationLog.status == NotificationStatus.SENDING))
            .values(status=NotificationStatus.FAILED, updated_at=utcnow()))
        jobs.enqueue(send_order_notification, order_id, kind, job_id=f"notify-{order_id}-{kind}",
                     retries=RETRIES_S)
        log.warning("notification %s/%s was stuck sending: sent again", order_id, kind)
    db.session.commit()
    return len(stuck)


def run_all_once() -> dict[str, int]:
    """`micromall reconcile`: every sweep once, in this process, with what each found."""
    from app.orders.jobs import expire_due_orders
    from app.payments.reconciliation import reconcile_pending_payments
    from app.pickup.shipping import report_unreported_pickups

    results = {}
    for sweep in (reconcile_pending_payments, expire_due_orders, sweep_refunds, sweep_unclosed_orders,
                  sweep_stuck_notifications, report_unreported_pickups):
        results[sweep.__name__] = sweep()
        db.session.commit()
    return results

