"""Periodic jobs: (job function, every N seconds). The relay loop (`micromall cron`, and a thread of each
`micromall worker`, app/jobs_relay.py) adds each to the outbox when due, under the key `periodic:<job>`, so one copy
waits at a time however many loops run; each is safe to run twice, so an overlap or a restart does no harm.
Only the relay imports this module (it imports the job modules, hence the whole domain)."""
from __future__ import annotations

from app import sweeps
from app.orders.jobs import expire_due_orders
from app.payments.reconciliation import reconcile_pending_payments
from app.pickup.noshow import refund_no_shows
from app.pickup.shipping import report_unreported_pickups
from app.commission.payouts import reconcile_payouts
from app.promises.lateness import judge_due_orders
from app.wechat import refresh_access_tokens

PERIODIC = (
    (expire_due_orders, 60),
    (refund_no_shows, 300),
    (report_unreported_pickups, 600),
    (reconcile_pending_payments, 120),  # a lost payment notification is found within about 3 minutes
    (sweeps.sweep_refunds, 300),
    (sweeps.sweep_unclosed_orders, 60),  # closes cancelled orders' WeChat orders once 5 minutes old
    (refresh_access_tokens, 60),
    (sweeps.sweep_stuck_notifications, 60),
    (judge_due_orders, 60),  # promises kept or late, each order once
    (reconcile_payouts, 600),  # commission transfers whose outcome never arrived
)
