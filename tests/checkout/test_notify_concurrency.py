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
    records = db.session.query(PaymentNotification).all()
    assert len(records) == 5 and sorted(r.outcome for r in records) == ["applied"] + ["repeat"] * 4
