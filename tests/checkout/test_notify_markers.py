"""The order's marker (app/payments/notifications._paid_already) and claim (app/fastpath.Claim): another notification
id of a transaction already recorded is taken from Redis with every check the database makes; anything else goes to
the database; copies waiting for a first one that commits nothing are answered by the database, never by the claim."""
from app.extensions import db
from app.models import OrderEvent, Payment, PaymentNotification
from tests.checkout.conftest import order
from tests.conftest import mariadb_only
from tests.race import first_fails_while_second_waits


def _outcomes():
    db.session.rollback()
    return sorted(r.outcome for r in db.session.query(PaymentNotification))


@mariadb_only
def test_another_id_of_a_recorded_transaction_is_taken_from_the_marker(placed, notifier, app_ctx, backend):
    resource = notifier.resource(placed.order_no, placed.total_fen)
    assert notifier.post(notifier.body(resource)).status_code == 204
    assert notifier.post(notifier.body(resource)).status_code == 204
    assert _outcomes() == ["applied"]  # the second id answered from Redis: nothing written
    o = order(placed.order_no)
    assert o.status == "paid" and db.session.query(OrderEvent).filter_by(order_id=o.id, to_status="paid").count() == 1


@mariadb_only
def test_what_the_marker_does_not_vouch_for_goes_to_the_database(placed, notifier, app_ctx, backend):
    """Same transaction but another amount, another merchant or app, or another transaction of the same order:
    the database decides and records each, as without the marker."""
    resource = notifier.resource(placed.order_no, placed.total_fen)
    assert notifier.post(notifier.body(resource)).status_code == 204
    off = {**resource, "amount": {**resource["amount"], "total": placed.total_fen - 1}}
    assert notifier.post(notifier.body(off)).status_code == 400
    assert notifier.post(notifier.body({**resource, "mchid": "1900000999"})).status_code == 400
    assert notifier.post(notifier.body({**resource, "appid": "wx00000000000000ff"})).status_code == 400
    second = notifier.resource(placed.order_no, placed.total_fen)  # a new transaction_id
    assert notifier.post(notifier.body(second)).status_code == 204
    assert _outcomes() == ["applied", "rejected:amount_mismatch", "rejected:appid_mismatch",
                           "rejected:mchid_mismatch", "second_transaction_needs_a_person"]
    assert db.session.query(Payment).filter_by(out_trade_no=placed.order_no).one().transaction_id == \
        resource["transaction_id"]


@mariadb_only
def test_when_the_first_notifications_commit_fails_its_waiting_copy_applies_the_payment(placed, notifier, app_ctx,
                                                                                       backend, monkeypatch):
    """The first copy holds the order's claim and row, then its commit fails (503): its waiting copy (another id)
    is told RETRY on the rollback and applies the payment itself, once."""
    resource = notifier.resource(placed.order_no, placed.total_fen)
    first, second = first_fails_while_second_waits(db.engine, monkeypatch,
                                                   lambda: notifier.post(notifier.body(resource)),
                                                   lambda: notifier.post(notifier.body(resource)), "INSERT INTO job_outbox")
    assert first.status_code >= 500
    assert second.status_code == 204, second.text
    assert _outcomes() == ["applied"]
    o = order(placed.order_no)
    assert o.status == "paid" and db.session.query(OrderEvent).filter_by(order_id=o.id, to_status="paid").count() == 1
