"""Applying WeChat Pay's notifications: each notification id is recorded once with its outcome; a repeat is
answered like the first and changes nothing.

The record is inserted first: a duplicate delivered at the same moment waits on the unique id until the first
commits, then finds it. So of any number of copies exactly one applies the payment. Once an outcome is committed,
a repeat of its id is answered from a Redis marker before the database (app/fastpath.py); without the marker the
database answers as before.

A payment's success is also remembered per order, after the commit that left the order's payment with its
transaction: another notification id of that transaction (WeChat Pay redelivers with the same id; a second id is
the exception) is then answered from the order's marker with the database's checks, and its id is not recorded
(_paid_already). Copies that arrive before that commit wait for the first in Redis, not on its row locks and
unique keys (the order's fastpath.Claim), and answer from that marker; a first that commits nothing sends them to
the database.

Each endpoint claims ids in its own table and only for its own kind of event (TRANSACTION.* at the payment
endpoint, REFUND.* at the refund endpoint). A notification of the wrong kind is refused before anything is
recorded, so it cannot spend the id its real delivery will arrive with.

These functions flush; the endpoint commits the record with what it applied, whatever the outcome (a rejected
notification is recorded too, so its repeats are answered alike).

The claim is inserted with the outcome the notification is expected to have ("applied" for a payment's success)
and updated at the end only when it turned out otherwise: one UPDATE fewer in the common case. Nobody ever reads
the presumed outcome: the claim, the work and the outcome commit together (nothing between them commits: no
helper of app/uow.py runs there), and a copy of the id waits on the claim's key until that commit.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app import fastpath
from app.extensions import db
from app.models import PaymentNotification, Refund, RefundNotification
from app.orders.state import ConcurrentTransition
from app.payments.gateway import RefundState, Transaction, gateway
from app.payments.refunds import apply_refund_state
from app.payments.service import PayableOrder, apply_to_pay, check_transaction, order_to_pay, transaction_problem
from app.uow import read_again_after_losing_a_race

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    accepted: bool  # True: tell WeChat it is taken (204); False: 4xx FAIL, WeChat will try again
    outcome: str


TRANSACTION_PREFIX, REFUND_PREFIX = "TRANSACTION.", "REFUND."
Record = type[PaymentNotification] | type[RefundNotification]
_INSERTS: dict[str, Any] = {}  # a record table's INSERT, built once (app/commission/payouts.py claims with _claim too)


# WeChat Pay retries a notification for about 24 hours; a repeat within that is answered from Redis.
SETTLED_TTL_S = 25 * 3600
# Outcomes after which the order's payment holds the notification's transaction (or held it already: "repeat").
_RECORDS_THE_TRANSACTION = frozenset({"applied", "repeat", "late_paid", "late_refunded"})
_DEADLOCK = 1213  # InnoDB's deadlock error: the whole transaction was rolled back, it may simply be run again


def _settled_key(record: Record, notification_id: str) -> str:
    return f"{record.__tablename__}:{notification_id}"


def _repeat(outcome: str) -> Answer:
    return Answer(not outcome.startswith("rejected"), "repeat")


def _known(record: Record, notification_id: str) -> Answer | None:
    """A repeat of an id whose outcome is committed, answered from Redis without a transaction (app/fastpath.py):
    the signature has been verified by now, and the id alone decides, as in the database."""
    outcome = fastpath.recall(_settled_key(record, notification_id))
    return _repeat(outcome) if outcome is not None else None


def _claim(record: Record, notification_id: str, event_type: str, presumed: str = "processing",
           **keys) -> Answer | None:
    """Insert the record with the `presumed` outcome (see above); None if this call owns it now, else the answer
    given to the first copy.

    The INSERT opens the transaction (nothing precedes it, and a duplicate rolls everything back), so it needs no
    SAVEPOINT. Copies of one id waiting on a first copy that then rolls back (its order was being applied by
    another notification id at the same moment, see below) hold shared locks on the key and both try to insert:
    InnoDB picks one as a deadlock victim (1213) and rolls it back whole. That copy simply runs again: it then
    waits for the survivor and finds its record. Before this, the victim answered 503 "database unavailable"
    (SQLAlchemy's ROLLBACK TO SAVEPOINT after the deadlock failed with 1305, an OperationalError)."""
    values = dict(id=notification_id, event_type=event_type, outcome=presumed, **keys)
    for attempt in range(3):
        try:
            # The table's INSERT, built once per table, with the values as parameters: no ORM bulk-insert path and
            # no statement built per call (bench/hot_paths.py: notify_first).
            if record.__tablename__ not in _INSERTS:  # (a statement has no truth value: no `get() or`)
                _INSERTS[record.__tablename__] = insert(record.__table__)
            db.session.execute(_INSERTS[record.__tablename__], values)
            return None
        except IntegrityError:
            read_again_after_losing_a_race()  # the first copy committed its record: read it
            first = db.session.get(record, notification_id)
            if first is None:  # the first copy rolled back after all: try to own it
                continue
            if first.outcome != "processing":  # committed with its outcome: settled
                fastpath.remember(_settled_key(record, notification_id), first.outcome, SETTLED_TTL_S)
            return _repeat(first.outcome)
        except OperationalError as exc:
            read_again_after_losing_a_race()  # a deadlock victim: start over
            if getattr(exc.orig, "args", (None,))[0] != _DEADLOCK or attempt == 2:
                raise
            log.info("notification %s: deadlock between copies, claimed again", notification_id)
    raise RuntimeError("unreachable")  # pragma: no cover


def _finish(record: Record, notification_id: str, outcome: str, presumed: str = "processing") -> Answer:
    # Only an outcome other than the claim's presumed one is written; by id rather than get-and-set: applying the
    # payment has expired the claimed row by now, so get() would read it back first only to change one column.
    if outcome != presumed:
        db.session.execute(update(record).where(record.id == notification_id).values(outcome=outcome))
    fastpath.remember_after_commit(_settled_key(record, notification_id), outcome, SETTLED_TTL_S)
    return Answer(not outcome.startswith("rejected"), outcome)


def _wrong_kind(event_type: str, expected_prefix: str) -> Answer | None:
    if event_type.startswith(expected_prefix):
        return None
    log.warning("notification of type %s refused at the %s endpoint", event_type[:40], expected_prefix.rstrip("."))
    return Answer(False, f"rejected:wrong_endpoint_for_{event_type[:40]}")


def handle_transaction_notification(notification_id: str, event_type: str, transaction: Transaction) -> Answer:
    wrong = _wrong_kind(event_type, TRANSACTION_PREFIX)
    if wrong:
        return wrong
    if event_type != "TRANSACTION.SUCCESS":
        return _known(PaymentNotification, notification_id) or _apply(notification_id, event_type, transaction)[0]
    # The id's outcome, else the order's recorded transaction (any id of it), else the order's claim: one round
    # trip. Copies arriving together (the ids of one payment, each delivered twice) wait for the one that claimed
    # the order, in Redis rather than on its row locks and unique keys, and answer from what it committed.
    claim = fastpath.Claim(_paid_key(transaction.out_trade_no))
    found = fastpath.look([_settled_key(PaymentNotification, notification_id), _paid_key(transaction.out_trade_no)],
                          claim)
    if found is not None and found[0] == 0:
        return _repeat(found[1])
    paid = found[1] if found is not None else claim.wait() if claim.busy else None
    answer = _paid_already(transaction, paid) if paid is not None else None
    if answer is not None:
        return answer
    try:
        answer, recorded = _apply(notification_id, event_type, transaction)
    except BaseException:
        claim.release()  # its waiters ask the database
        raise
    claim.settle_after_commit(recorded)
    return answer


def _paid_key(out_trade_no: str) -> str:
    return f"paid:{out_trade_no[:32]}"


def _paid_already(transaction: Transaction, paid: str) -> Answer | None:
    """A SUCCESS notification of the transaction that the order's marker (`paid`, written after the commit that
    recorded it) says is recorded: taken as a repeat, whatever its id, with the checks the database path makes
    (merchant, app id, state, amount) and nothing written: the payment's row is the record of the transaction, and
    applying it again would change nothing (apply_paid_transaction: "repeat"). Its id is not recorded: a redelivery
    of it is answered alike, from this marker or by the database. None: ask the database (another transaction, or
    a check failing: the rejection is recorded there)."""
    recorded = json.loads(paid)
    if recorded["transaction_id"] != transaction.transaction_id:
        return None
    if transaction_problem(transaction, recorded["payable_fen"]) is not None:
        return None
    return Answer(True, "repeat")


def _recorded(order: PayableOrder, transaction: Transaction, outcome: str) -> str | None:
    """The order's marker when `outcome` leaves the order's payment with this transaction (so that a copy of it
    is a repeat, app/payments/service.apply_paid_transaction), written after the commit; else None."""
    if outcome not in _RECORDS_THE_TRANSACTION and not outcome.startswith("recorded_in_"):
        return None
    marker = json.dumps({"transaction_id": transaction.transaction_id, "payable_fen": order.payable_fen})
    fastpath.remember_after_commit(_paid_key(transaction.out_trade_no), marker, SETTLED_TTL_S)
    return marker


def _apply(notification_id: str, event_type: str, transaction: Transaction) -> tuple[Answer, str | None]:
    """The database path: the id claimed, the payment applied. Returns the answer and, when the order's payment
    now holds this transaction, the order's marker (_recorded)."""
    presumed = "applied" if event_type == "TRANSACTION.SUCCESS" else f"ignored:{event_type}"
    claimed = _claim(PaymentNotification, notification_id, event_type, presumed,
                     out_trade_no=transaction.out_trade_no[:32], transaction_id=transaction.transaction_id)
    if claimed:
        return claimed, None
    if event_type != "TRANSACTION.SUCCESS":
        return _finish(PaymentNotification, notification_id, f"ignored:{event_type}", presumed), None
    to_pay = order_to_pay(transaction.out_trade_no)  # the order, its payment and its store's terms: one SELECT
    problem = check_transaction(transaction, to_pay.order if to_pay else None)
    if problem:
        log.warning("payment notification %s rejected: %s", notification_id, problem)
        return _finish(PaymentNotification, notification_id, f"rejected:{problem}", presumed), None
    try:
        outcome = apply_to_pay(to_pay, transaction, "notify")
    except (ConcurrentTransition, IntegrityError):
        # A query-driven reconciliation applied the same payment at this moment: it is taken either way.
        read_again_after_losing_a_race()
        return _apply(notification_id, event_type, transaction)
    answer = _finish(PaymentNotification, notification_id, outcome, presumed)
    return answer, _recorded(to_pay.order, transaction, outcome)


def handle_refund_notification(notification_id: str, event_type: str, state: RefundState) -> Answer:
    wrong = _wrong_kind(event_type, REFUND_PREFIX)
    if wrong:
        return wrong
    known = _known(RefundNotification, notification_id)
    if known:
        return known
    claimed = _claim(RefundNotification, notification_id, event_type,
                     out_trade_no=(state.out_trade_no or "")[:32] or None, out_refund_no=state.out_refund_no)
    if claimed:
        return claimed
    refund = db.session.scalar(select(Refund).where(Refund.out_refund_no == state.out_refund_no))
    if state.mchid != gateway().mchid:
        return _finish(RefundNotification, notification_id, "rejected:mchid_mismatch")
    if refund is None:
        return _finish(RefundNotification, notification_id, "rejected:unknown_refund")
    if state.refund_fen is not None and state.refund_fen != refund.amount_fen:
        return _finish(RefundNotification, notification_id, "rejected:amount_mismatch")
    try:
        outcome = apply_refund_state(refund, state, "wechatpay:refund_notify")
    except ConcurrentTransition:
        read_again_after_losing_a_race()
        return handle_refund_notification(notification_id, event_type, state)
    return _finish(RefundNotification, notification_id, outcome)
