"""The commission ledger: append-only, integer fen, each line written once.

- *earned* at the handover, in the transaction that hands the order over (so exactly once, as the handover is):
  `rate_bp` basis points of the amount paid to the seat the order carries (rounded down to the fen), and
  `per_handover_fen` to the seat that redeemed the code.
- *reversed* when the order is refunded afterwards: one negative line per earned line, in the transaction that
  records the refund.
- *adjusted* by a manager of the seat's store, with a reason.

Sums are exact under any concurrency because nothing is ever read-modified-written: lines are inserted, totals are
SUMs, and each line's `entry_key` is unique, so a retry or a race that would write a line twice fails on the key
and writes nothing.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden, NotFound, invalid_field
from app.extensions import db
from app.models import CommissionEntry, CommissionRule, Order, OrderAttribution, Payment, StaffSeat, Store, utcnow

MAX_ADJUSTMENT_FEN = 10_000_000  # ¥100,000: beyond a typo's reach in one line


def set_rule(store_id: int, rate_bp: int, per_handover_fen: int) -> CommissionRule:
    if db.session.get(Store, store_id) is None:
        raise NotFound(f"Store {store_id} does not exist.")
    if not 0 <= rate_bp <= 10_000:
        raise invalid_field("rate_bp", "must be between 0 and 10000 basis points")
    if not 0 <= per_handover_fen <= 1_000_000:
        raise invalid_field("per_handover_fen", "must be between 0 and 1000000 fen")
    rule = db.session.get(CommissionRule, store_id)
    if rule is None:
        rule = CommissionRule(store_id=store_id)
        db.session.add(rule)
    rule.rate_bp, rule.per_handover_fen, rule.updated_at = rate_bp, per_handover_fen, utcnow()
    db.session.flush()
    return rule


def _append(entry: CommissionEntry) -> bool:
    """Insert one line; False (and nothing written) when a line with its key exists already."""
    try:
        with db.session.begin_nested():
            db.session.add(entry)
        return True
    except IntegrityError:
        return False


def amount_paid(order: Order) -> int:
    paid = db.session.scalar(select(Payment.amount_fen).where(Payment.order_id == order.id))
    return paid if paid is not None else order.total_fen


_UNREAD: Any = object()


def earn_for_handover(order: Order, redeemer: StaffSeat, now: datetime,
                      rule: CommissionRule | None = _UNREAD) -> list[CommissionEntry]:
    """Handover hook (inside the handover's transaction). A seat disabled before the handover earns nothing from
    it; what it earned before stays. `rule`: the order's store's rule as the caller already read it in this
    transaction (None: the store has none), so that it is not read again."""
    if rule is _UNREAD:
        rule = db.session.get(CommissionRule, order.store_id)
    if rule is None:
        return []
    written = []
    if rule.rate_bp:
        tag = db.session.get(OrderAttribution, order.id)
        seat = db.session.get(StaffSeat, tag.seat_id) if tag is not None else None
        amount = amount_paid(order) * rule.rate_bp // 10_000
        if seat is not None and seat.active and amount > 0:
            entry = CommissionEntry(entry_key=f"earn:attribution:{order.id}", seat_id=seat.id,
                                    store_id=order.store_id, order_id=order.id, kind="earned", basis="attribution",
                                    amount_fen=amount, reason=f"{rule.rate_bp} bp of {amount_paid(order)} fen",
                                    actor=f"staff:{redeemer.id}", created_at=now)
            if _append(entry):
                written.append(entry)
    if rule.per_handover_fen and redeemer.active:
        entry = CommissionEntry(entry_key=f"earn:handover:{order.id}", seat_id=redeemer.id, store_id=order.store_id,
                                order_id=order.id, kind="earned", basis="handover", amount_fen=rule.per_handover_fen,
                                reason="handover", actor=f"staff:{redeemer.id}", created_at=now)
        if _append(entry):
            written.append(entry)
    return written


def reverse_for_order(order: Order, actor: str) -> list[CommissionEntry]:
    """Refund hook: every line earned on the order gets its negative twin, once."""
    now = utcnow()
    written = []
    for earned in db.session.scalars(select(CommissionEntry).where(
            CommissionEntry.order_id == order.id, CommissionEntry.kind == "earned").order_by(CommissionEntry.id)):
        entry = CommissionEntry(entry_key=f"reverse:{earned.id}", seat_id=earned.seat_id, store_id=earned.store_id,
                                order_id=order.id, kind="reversed", basis=earned.basis, amount_fen=-earned.amount_fen,
                                reason="order refunded", actor=actor, created_at=now)
        if _append(entry):
            written.append(entry)
    return written


def adjust(manager: StaffSeat, seat_id: int, amount_fen: int, reason: str) -> CommissionEntry:
    """A manager's correction of a seat of their own store, positive or negative, with a reason. Flushes."""
    seat = db.session.get(StaffSeat, seat_id)
    if seat is None or seat.store_id != manager.store_id:
        raise NotFound(f"Staff seat {seat_id} does not exist at this store.")
    if manager.role != "manager":
        raise Forbidden("Only a store manager may adjust commission.")
    if amount_fen == 0 or abs(amount_fen) > MAX_ADJUSTMENT_FEN:
        raise invalid_field("amount_fen", f"must be non-zero and at most {MAX_ADJUSTMENT_FEN} fen either way")
    if not reason.strip():
        raise invalid_field("reason", "must not be empty")
    entry = CommissionEntry(entry_key=f"adjust:{secrets.token_hex(16)}", seat_id=seat.id, store_id=seat.store_id,
                            order_id=None, kind="adjusted", basis="manual", amount_fen=amount_fen,
                            reason=reason.strip()[:200], actor=f"staff:{manager.id}", created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry
