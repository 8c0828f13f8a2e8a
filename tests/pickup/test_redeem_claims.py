"""Simultaneous redeems of one code wait for the first in Redis (app/fastpath.Claim), never answered from the claim:
only from what the first committed, else by the database as before."""
import time

from app import fastpath
from app.extensions import db, redis_client
from app.models import Order, OrderEvent, OrderStatus, PickupAttempt, PickupCode
from app.orders.state import transition
from app.pickup.codes import revoke_for_order
from app.pickup.handover import _ticket
from tests import factories
from tests.conftest import mariadb_only
from tests.pickup.conftest import Shop
from tests.race import first_fails_while_second_waits, run_together

REDEEM = "/api/v1/staff/pickups/redeem"


def _scene(app, paid_order, staff_member, name):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 10})
    return paid_order(Shop(store_id, made.sku_ids[0]), name), staff_member(store_id)


def _attempts(app, order_id):
    with app.app_context():
        return sorted(a.outcome for a in db.session.query(PickupAttempt).filter_by(order_id=order_id))


@mariadb_only
def test_the_copies_of_a_refused_redeem_are_answered_by_the_database(app, paid_order, staff_member, sandbox):
    """The first copy is refused (the code revoked): it leaves its waiters RETRY, and each is refused alike."""
    order, staff = _scene(app, paid_order, staff_member, "revoked")
    with app.app_context():
        row = db.session.get(Order, order.order_id)
        transition(row, OrderStatus.REFUNDING, "customer_cancel", "customer:1")
        revoke_for_order(row)
        db.session.commit()
    responses = run_together([lambda: app.test_client().post(REDEEM, headers=staff.headers,
                                                             json={"code": order.code}) for _ in range(10)])
    assert {(r.status_code, r.get_json()["error"]["code"]) for r in responses} == {(409, "order_not_redeemable")}
    assert _attempts(app, order.order_id) == ["order_not_redeemable"] * 10


@mariadb_only
def test_a_claim_whose_holder_died_only_delays_the_next_redeem(app, paid_order, staff_member, sandbox):
    """A claim nobody settles (its holder's process died): the next redeem waits CLAIM_WAIT_S at most, then the
    database hands the order over."""
    order, staff = _scene(app, paid_order, staff_member, "orphan")
    with app.test_request_context():
        claim_key = fastpath.Claim(f"pickup:{_ticket(order.code, None)}").redis_keys()[0]
        redis_client().set(claim_key, "1", px=fastpath.CLAIM_TTL_MS)
    started = time.monotonic()
    response = app.test_client().post(REDEEM, headers=staff.headers, json={"code": order.code})
    assert response.status_code == 200, response.get_json()
    assert fastpath.CLAIM_WAIT_S * 0.9 <= time.monotonic() - started
    assert _attempts(app, order.order_id) == ["redeemed"]


@mariadb_only
def test_when_the_first_redeems_commit_fails_a_waiter_hands_the_order_over(app, paid_order, staff_member, sandbox,
                                                                            monkeypatch):
    """The first copy holds the claim and its locks, renders its 200, then its commit fails (503): nothing of it is
    kept, so its waiter must not answer already_redeemed. It is told RETRY on the rollback (the claim's settlement
    was waiting for the commit) and the database hands the order over to it."""
    order, staff = _scene(app, paid_order, staff_member, "rolledback")
    with app.app_context():
        engine = db.engine
    first, second = first_fails_while_second_waits(
        engine, monkeypatch, lambda: app.test_client().post(REDEEM, headers=staff.headers, json={"code": order.code}),
        lambda: app.test_client().post(REDEEM, headers=staff.headers, json={"code": order.code}),
        "COMMIT")
    assert first.status_code >= 500
    assert second.status_code == 200, second.get_json()
    with app.app_context():
        assert db.session.get(Order, order.order_id).status == "picked_up"
        assert db.session.query(OrderEvent).filter_by(order_id=order.order_id, to_status="picked_up").count() == 1
        assert db.session.query(PickupCode).filter_by(order_id=order.order_id).one().redeemed_at is not None
    assert _attempts(app, order.order_id) == ["redeemed"]
    with app.app_context():  # the first's rollback told its waiter RETRY (not the wait's timeout)
        done_key = fastpath.Claim(f"pickup:{_ticket(order.code, None)}").redis_keys()[1]
        assert redis_client().lrange(done_key, 0, -1) == [fastpath.RETRY.encode()]
