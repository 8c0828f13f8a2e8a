"""The counter: look a pickup up and hand it over, once, with every attempt in the redemption log.

Exactly once: the order's status moves by the guarded transition (paid|ready -> picked_up) and the code by a guarded
UPDATE (`redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > now`), both in one transaction, orders row
first and code second — the same order a refund takes them in (transition, then revoke), so the two cannot
deadlock. Of any number of simultaneous redeems one commits; the others find the row changed and answer
`already_redeemed` with when and by whom.

These functions flush; the view commits the handover with its attempt row. A failed attempt is logged too: the log
row must outlive the rollback of the error answer, so it is committed alone after the attempt's work is rolled back
(`record_after_rollback`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import fastpath, jobs
from app.commission.ledger import earn_for_handover
from app.errors import ApiError, Conflict, NotFound, RateLimited, invalid_field
from app.extensions import db
from app.models import (CommissionRule, Customer, Order, OrderStatus, PickupAttempt, PickupCode, ShippingReport,
                        StaffSeat, utcnow)
from app.notifications.sending import enqueue_order_notification, order_notification_job
from app.orders.state import ConcurrentTransition, transition
from app.pickup.codes import normalize_code
from app.pickup.qr import QrTokenError, check_qr_token_live, qr_token_hash
from app.pickup.shipping import report_job
from app.ratelimit import give_back, pickup_limits, take, take_unless_settled
from app.uow import read_again_after_losing_a_race, record_after_rollback

REDEEMABLE = (OrderStatus.PAID.value, OrderStatus.READY.value)
# Outcomes that look like guessing count against the rate limits; a real code of this store (even one already
# handed over) does not, so a busy counter is never locked out by customers showing old codes. Another store's code
# is logged as wrong_store but answered exactly like an unknown one (404 pickup_not_found, or qr_token_invalid for
# a token), so the answer never tells a guesser that a code is live somewhere.
GUESSES = frozenset({"pickup_not_found", "wrong_store", "qr_token_invalid"})
# How long a repeat scan of a handed-over code is answered from Redis (app/fastpath.py); later, by the database.
REDEEMED_MARKER_TTL_S = 3600


@dataclass
class Pickup:
    code: PickupCode
    order: Order


class _Failed(Exception):
    def __init__(self, outcome: str, error: ApiError, order_id: int | None = None) -> None:
        super().__init__(outcome)
        self.outcome, self.error, self.order_id = outcome, error, order_id


def lookup(seat: StaffSeat, code: str | None, qr_token: str | None, client_addr: str | None = None) -> Pickup:
    """The preview: the pickup of this store that the code or token names, whatever its state."""
    return _attempt(seat, "lookup", code, qr_token, lambda pickup, rule: pickup, client_addr)


def redeem(seat: StaffSeat, code: str | None, qr_token: str | None, client_addr: str | None = None) -> Pickup:
    return _attempt(seat, "redeem", code, qr_token, lambda pickup, rule: _hand_over(seat, pickup, rule), client_addr)


def _attempt(seat: StaffSeat, action: str, code: str | None, qr_token: str | None,
             act: Callable[[Pickup, CommissionRule | None], Pickup], client_addr: str | None = None) -> Pickup:
    seat_id, store_id = seat.id, seat.store_id
    via = "qr" if qr_token is not None else "code"
    limits = pickup_limits(seat_id, store_id, client_addr)
    ticket = _ticket(code, qr_token)
    # Simultaneous redeems of one code (twenty taps, two phones): the first claims it and goes on; the others wait
    # for its marker in Redis rather than on its row locks (app/fastpath.Claim), then answer from it.
    claim = fastpath.Claim(f"pickup:{ticket}") if action == "redeem" else None
    try:
        if claim is not None:
            # The limits, what a handover of this code left in Redis and the claim, in one round trip; a marker
            # found (or a claim held by another copy) takes no slot.
            marker = take_unless_settled(limits, ticket, fastpath.redis_key(f"pickup:{ticket}"), claim=claim)
            waited = claim.busy
            if waited:
                marker = claim.wait()
            settled = json.loads(marker) if marker else None
            if (settled is None and waited) or (settled is not None and settled["store_id"] != store_id):
                # Another store's marker says nothing here, nor does a wait that brought none: the attempt takes
                # its slot and goes on as any other.
                settled = None
                take(limits, ticket=ticket)
        else:
            settled = None
            take(limits, ticket=ticket)
    except RateLimited:
        with record_after_rollback():
            _log(seat_id, store_id, action, via, None, "rate_limited")
        raise
    if settled is not None:  # a repeat scan of a code this store handed over: no transaction but the log's
        with record_after_rollback():
            _log(seat_id, store_id, action, via, settled["order_id"], "already_redeemed")
        raise _already_redeemed(settled["redeemed_at"], settled["redeemed_by"]).error
    try:
        pickup, rule = _find(code, qr_token, with_rule=action == "redeem")
        if pickup.code.store_id != store_id:
            # Logged as what it is, answered as an unknown code (or token): nothing about the order goes back,
            # not even that the code is live at another store.
            unknown = _qr_failure(QrTokenError("invalid")) if qr_token is not None else _not_found()
            raise _Failed("wrong_store", unknown.error, pickup.order.id)
        result = act(pickup, rule)
    except _Failed as failed:
        outcome, error, order_id = failed.outcome, failed.error, failed.order_id
    except ApiError as exc:  # bad input, or a race we could not settle: logged, never counted as a guess
        outcome, error, order_id = exc.code, exc, None
    except BaseException:
        give_back(limits, ticket)  # our failure (database, bug), not the caller's
        if claim is not None:
            claim.release()
        raise
    else:
        give_back(limits, ticket)
        if action == "redeem":
            _remember_redeemed(result, ticket, qr_token is not None, claim)
        _log(seat_id, store_id, action, via, result.order.id, "redeemed" if action == "redeem" else "ok")
        return result
    if claim is not None:
        claim.release()  # the waiters ask the database, which answers them as it answered this one
    if outcome not in GUESSES:
        give_back(limits, ticket)
    with record_after_rollback():
        _log(seat_id, store_id, action, via, order_id, outcome)
    raise error


def _ticket(code: str | None, qr_token: str | None) -> str:
    """The rate-limit slot of this attempt, named after what it tries (keyed, so Redis holds no code): a counter's
    simultaneous scans of one code (double taps, two phones) share one slot while in flight, and a real code is
    never refused for the scans of itself still under way; each distinct guess still takes its own."""
    tried = f"qr:{qr_token}" if qr_token is not None else f"code:{normalize_code(code or '') or code}"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, tried.encode(), hashlib.sha256).hexdigest()[:32]


def _remember_redeemed(pickup: Pickup, ticket: str, by_qr: bool, claim: fastpath.Claim | None) -> None:
    """After the commit: repeats of this code (and of this QR token while it is valid) are answered from Redis,
    and so are the copies waiting on this attempt's claim. A handover is never undone (redeemed_at is never
    cleared), so the marker stays true; the seat's name in it is the one at the handover, for the marker's hour."""
    code = pickup.code
    marker = json.dumps({"store_id": code.store_id, "order_id": pickup.order.id,
                         "redeemed_at": code.redeemed_at.isoformat(), "redeemed_by": redeemed_by(code)})
    fastpath.remember_after_commit(f"pickup:{_ticket(code.code, None)}", marker, REDEEMED_MARKER_TTL_S)
    for_waiters: str | None = marker
    if by_qr:
        left = int((code.qr_expires_at - utcnow()).total_seconds()) if code.qr_expires_at is not None else 0
        if left > 0:  # an expired token is answered qr_token_expired by the database path: never by the marker
            fastpath.remember_after_commit(f"pickup:{ticket}", marker, min(left, REDEEMED_MARKER_TTL_S))
        else:
            for_waiters = None
    if claim is not None:
        claim.settle_after_commit(for_waiters)


# The hot writes of an attempt as Core statements built once, executed with their parameters: nothing reads these
# rows back in the unit, so no ORM object and its flush, and no statement built, coerced and keyed per call (each
# of which cost more CPU than sending the statement; bench/hot_paths.py). Every attempt writes the log row.
_LOG = insert(PickupAttempt.__table__)
_SHIPPING_REPORT = insert(ShippingReport.__table__)
_codes = PickupCode.__table__.c
_CLAIM_CODE = (update(PickupCode.__table__)
               .where(_codes.id == bindparam("code_id"), _codes.redeemed_at.is_(None), _codes.revoked_at.is_(None),
                      _codes.expires_at > bindparam("now"))
               .values(redeemed_at=bindparam("now"), redeemed_by_seat_id=bindparam("seat_id")))


def _log(seat_id: int, store_id: int, action: str, via: str, order_id: int | None, outcome: str) -> None:
    db.session.execute(_LOG, dict(seat_id=seat_id, store_id=store_id, order_id=order_id, action=action, via=via,
                                  outcome=outcome, at=utcnow()))


def _not_found() -> _Failed:
    return _Failed("pickup_not_found", NotFound("No pickup has this code.", code="pickup_not_found"))


def _qr_failure(exc: QrTokenError) -> _Failed:
    message = ("The QR code has expired; ask the customer to refresh it." if exc.reason == "expired"
               else "This is not a valid pickup QR code.")
    return _Failed(f"qr_token_{exc.reason}", ApiError(message, code=f"qr_token_{exc.reason}"))


def _find_statement(by_qr: bool, with_rule: bool):
    where = (PickupCode.qr_token_hash == bindparam("qr_token_hash")) if by_qr else (PickupCode.code == bindparam("code"))
    query = (select(PickupCode, Order, Customer).join(Order, Order.id == PickupCode.order_id)
             .outerjoin(Customer, Customer.id == Order.customer_id).options(joinedload(Order.items)).where(where))
    if with_rule:
        query = query.add_columns(CommissionRule).outerjoin(CommissionRule, CommissionRule.store_id == Order.store_id)
    return query


# _find's four statements (by code or QR token, with the commission rule or without), built once: built per call,
# the ORM statement with its joined load cost more to build and key for SQLAlchemy's cache than to send.
_FIND = {(by_qr, with_rule): _find_statement(by_qr, with_rule) for by_qr in (False, True) for with_rule in (False, True)}


def _find(code: str | None, qr_token: str | None, with_rule: bool) -> tuple[Pickup, CommissionRule | None]:
    """The pickup the code or token names, in one statement with all that the attempt and its answer read: the
    order with its lines, its customer (the answer's masked phone) and, `with_rule`, the commission rule of the
    order's store (None: it has none), which a handover needs. Reading the rule here rather than at the handover
    changes nothing it sees: on MariaDB every plain read of a transaction sees the snapshot of its first (the
    seat's), and SQLite's transaction is serializable."""
    if qr_token is not None:
        try:
            params = {"qr_token_hash": qr_token_hash(qr_token)}
        except QrTokenError as exc:
            raise _qr_failure(exc) from None
    else:
        digits = normalize_code(code or "")
        if digits is None:
            raise invalid_field("code", "must be the 12 digits of a pickup code")
        params = {"code": digits}
    query = _FIND[(qr_token is not None, with_rule)]
    row = db.session.execute(query, params).unique().first()
    if row is None:
        raise _qr_failure(QrTokenError("invalid")) if qr_token is not None else _not_found()
    if qr_token is not None:
        try:
            check_qr_token_live(row.PickupCode)
        except QrTokenError as exc:
            raise _qr_failure(exc) from None
    return Pickup(row.PickupCode, row.Order), row.CommissionRule if with_rule else None


def redeemed_by(pickup: PickupCode) -> dict | None:
    if pickup.redeemed_at is None:
        return None
    seat = db.session.get(StaffSeat, pickup.redeemed_by_seat_id) if pickup.redeemed_by_seat_id else None
    return {"seat_id": seat.id, "name": seat.name, "role": seat.role} if seat else None


def _already_redeemed(redeemed_at: str, by: dict | None, order_id: int | None = None) -> _Failed:
    return _Failed("already_redeemed", Conflict("This order has already been handed over.",
                                                {"redeemed_at": redeemed_at, "redeemed_by": by},
                                                code="already_redeemed"), order_id)


def _refusal(pickup: PickupCode, order: Order) -> _Failed | None:
    """Why this pickup cannot be handed over now, or None when it can."""
    if pickup.redeemed_at is not None:
        return _already_redeemed(pickup.redeemed_at.isoformat(), redeemed_by(pickup), order.id)
    reason = ("revoked" if pickup.revoked_at is not None else order.status if order.status not in REDEEMABLE
              else "expired" if pickup.expires_at <= utcnow() else None)
    if reason is None:
        return None
    return _Failed("order_not_redeemable", Conflict(
        f"This order cannot be handed over ({reason}).", {"status": order.status, "reason": reason},
        code="order_not_redeemable"), order.id)


def _hand_over(seat: StaffSeat, pickup: Pickup, rule: CommissionRule | None) -> Pickup:
    """`rule`: the store's commission rule as _find read it in this transaction."""
    code_id, order_id, actor, seat_id = pickup.code.id, pickup.order.id, f"staff:{seat.id}", seat.id
    from app.coupons.alliances import reward_pickup  # issue 18: a coupon from an ally store

    for attempt in range(3):  # a racing "ready" changes the status we read; that is worth another try, not an error
        code, order = db.session.get(PickupCode, code_id), db.session.get(Order, order_id)
        failed = _refusal(code, order)
        if failed is not None:
            raise failed
        try:
            transition(order, OrderStatus.PICKED_UP, "picked_up", actor)
        except ConcurrentTransition:
            read_again_after_losing_a_race()
            continue
        now = utcnow()
        claimed = db.session.execute(_CLAIM_CODE, dict(code_id=code_id, now=now, seat_id=seat_id))
        if claimed.rowcount != 1:
            read_again_after_losing_a_race()
            continue
        db.session.execute(_SHIPPING_REPORT, dict(order_id=order_id, created_at=now, attempts=0))
        if attempt:  # a lost race rolled back the transaction the rule was read in
            rule = db.session.get(CommissionRule, order.store_id)
        earn_for_handover(order, seat, now, rule)  # commission, once, with the handover (issue 17)
        jobs.enqueue_all([order_notification_job(order, "picked_up"), report_job(order_id),
                          jobs.Job(reward_pickup, (order_id,), f"alliance-reward-{order_id}")])
        db.session.flush()
        # The guarded UPDATE wrote these two (and nothing else of the row): the session is told, not read back.
        set_committed_value(code, "redeemed_at", now)
        set_committed_value(code, "redeemed_by_seat_id", seat_id)
        return Pickup(code, order)
    raise _refusal(db.session.get(PickupCode, code_id), db.session.get(Order, order_id)) or ConcurrentTransition(
        pickup.order.order_no)


def mark_ready(seat: StaffSeat, order_no: str) -> Order:
    """The store has prepared the order: paid -> ready and the customer is told. Pressing it twice is harmless.
    Another store's order is as absent as a missing one. Flushes; the caller commits."""
    order = db.session.scalar(select(Order).where(Order.order_no == order_no, Order.store_id == seat.store_id))
    if order is None:
        raise NotFound(f"Order {order_no} does not exist at this store.")
    if order.status == OrderStatus.READY.value:
        return order
    transition(order, OrderStatus.READY, "prepared", f"staff:{seat.id}")
    enqueue_order_notification(order, "ready")
    return order
