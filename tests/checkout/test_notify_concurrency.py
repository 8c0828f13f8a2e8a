"""Duplicate and second notifications of one payment arriving at the same moment (the bench's S3 shape: one
transaction, several notification ids, each delivered more than once, all in flight together): every copy is
taken (204), never a 503, and the order moves once."""
import logging

from app.extensions import db
from app.models import OrderEvent, PaymentNotification
from tests.checkout.conftest import order
from tests.conftest import mariadb_only
from tests.race import run_together


@mariadb_only
def test_simultaneous_copies_of_several_ids_are_all_taken_once(app, notifier, placed, app_ctx, caplog, backend):
    resource = notifier.resource(placed.order_no, placed.total_fen)
    bodies = [notifier.body(resource) for _ in range(5)]
    db.session.commit()
    caplog.set_level(logging.WARNING)
    responses = run_together([lambda b=b: notifier.post(b) for b in bodies for _ in range(4)])
    statuses = [r.status_code for r in responses]
    assert statuses == [204] * 20, (statuses, [r.text for r in responses if r.status_code != 204], caplog.text)
    db.session.commit()
    o = order(placed.order_no)
    assert db.session.query(OrderEvent).filter_by(order_id=o.id, to_status="paid").count() == 1
    # The id that applied it is recorded; the other ids' copies waited for it in Redis (app/fastpath.Claim) and were
    # answered from the order's marker, unrecorded (app/payments/notifications._paid_already), unless a wait ran
    # out and the database answered them: recorded as repeats then.
    outcomes = sorted(r.outcome for r in db.session.query(PaymentNotification))
    assert outcomes[0] == "applied" and set(outcomes[1:]) <= {"repeat"} and len(outcomes) <= 5, outcomes
