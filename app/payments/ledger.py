"""The money side for the merchant: payments and refunds per local day and store, refunds that need a person, and
how far reconciliation with WeChat Pay has got. Read-only; grouping by day is done here (in the stores' time zone)
so it reads the same on SQLite and MySQL."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderStatus, Payment, PaymentNotification, Refund, utcnow

MAX_DAYS = 92


@dataclass
class DayLine:
    day: date
    store_id: int
    paid_count: int = 0
    paid_fen: int = 0
    refunded_count: int = 0
    refunded_fen: int = 0


@dataclass
class Reconciliation:
    unconfirmed_payments: int  # prepaid here, no transaction yet, order not final: the sweep still asks WeChat Pay
    last_queried_at: datetime | None
    rejected_notifications: int
    stuck_refunds: int  # requested more than 10 minutes ago and not yet accepted by WeChat Pay


@dataclass
class MoneyReport:
    lines: list[DayLine]
    needs_person: list[tuple[Order, Refund | None]]
    reconciliation: Reconciliation
    totals: dict[str, int] = field(default_factory=dict)


def local_day(value: datetime) -> date:
    return value.astimezone(ZoneInfo(current_app.config["STORE_TIMEZONE"])).date()


def _scope(query, store_ids: set[int] | None):
    return query if store_ids is None else query.where(Order.store_id.in_(store_ids or [-1]))


def money_report(store_ids: set[int] | None, days: int = 14, now: datetime | None = None) -> MoneyReport:
    days = max(1, min(days, MAX_DAYS))
    now = now or utcnow()
    since = now - timedelta(days=days)
    lines: dict[tuple[date, int], DayLine] = {}

    def line(at: datetime, store_id: int) -> DayLine:
        key = (local_day(at), store_id)
        return lines.setdefault(key, DayLine(*key))

    for paid_at, amount, store_id in db.session.execute(_scope(
            select(Payment.paid_at, Payment.amount_fen, Order.store_id).join(Order, Order.id == Payment.order_id)
            .where(Payment.paid_at >= since), store_ids)):
        entry = line(paid_at, store_id)
        entry.paid_count += 1
        entry.paid_fen += amount
    for updated_at, amount, store_id in db.session.execute(_scope(
            select(Refund.updated_at, Refund.amount_fen, Order.store_id).join(Order, Order.id == Refund.order_id)
            .where(Refund.status == "success", Refund.updated_at >= since), store_ids)):
        entry = line(updated_at, store_id)
        entry.refunded_count += 1
        entry.refunded_fen += amount
    ordered = sorted(lines.values(), key=lambda x: (x.day, x.store_id), reverse=True)
    failed = list(db.session.scalars(_scope(select(Order).where(Order.status == OrderStatus.REFUND_FAILED.value)
                                            .order_by(Order.updated_at), store_ids)))
    last_refund: dict[int, Refund] = {}
    if failed:
        for refund in db.session.scalars(select(Refund).where(Refund.order_id.in_([o.id for o in failed]))
                                         .order_by(Refund.id)):
            last_refund[refund.order_id] = refund
    totals: defaultdict[str, int] = defaultdict(int)
    for entry in ordered:
        totals["paid_fen"] += entry.paid_fen
        totals["refunded_fen"] += entry.refunded_fen
    return MoneyReport(ordered, [(o, last_refund.get(o.id)) for o in failed], _reconciliation(store_ids, now),
                       dict(totals))


def _reconciliation(store_ids: set[int] | None, now: datetime) -> Reconciliation:
    open_statuses = (OrderStatus.PENDING_PAYMENT.value, OrderStatus.CANCELLED.value)
    unconfirmed = _scope(select(func.count(), func.max(Payment.last_queried_at)).select_from(Payment)
                         .join(Order, Order.id == Payment.order_id)
                         .where(Payment.transaction_id.is_(None), Payment.prepay_id.is_not(None),
                                Order.status.in_(open_statuses), Payment.created_at >= now - timedelta(days=2)),
                         store_ids)
    count, last = db.session.execute(unconfirmed).one()
    rejected = db.session.scalar(select(func.count()).select_from(PaymentNotification).where(
        PaymentNotification.outcome.like("rejected%"), PaymentNotification.received_at >= now - timedelta(days=7)))
    stuck = db.session.scalar(_scope(select(func.count()).select_from(Refund).join(Order, Order.id == Refund.order_id)
                                     .where(Refund.status == "requested",
                                            Refund.created_at < now - timedelta(minutes=10)), store_ids))
    # Notifications carry no store: an operator limited to some stores is not shown the chain-wide count.
    return Reconciliation(count or 0, last, (rejected or 0) if store_ids is None else 0, stuck or 0)


def report_csv(report: MoneyReport, store_names: dict[int, str]) -> str:
    """For the accountant: one line per day and store, money in fen and in yuan. With a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "store_id", "store", "payments", "paid_fen", "paid_yuan", "refunds", "refunded_fen",
                     "refunded_yuan", "net_fen"])
    for x in report.lines:
        writer.writerow([x.day.isoformat(), x.store_id, store_names.get(x.store_id, ""), x.paid_count, x.paid_fen,
                         f"{x.paid_fen / 100:.2f}", x.refunded_count, x.refunded_fen, f"{x.refunded_fen / 100:.2f}",
                         x.paid_fen - x.refunded_fen])
    return "\ufeff" + out.getvalue()
