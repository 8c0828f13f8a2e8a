"""The transition table, enforced for every pair of statuses; guarded against stale reads."""
import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Customer, Order, OrderEvent, OrderStatus, utcnow
from app.orders.state import TRANSITIONS, ConcurrentTransition, InvalidTransition, transition
from tests import factories

S = OrderStatus
ALLOWED = {
    (S.PENDING_PAYMENT, S.PAID), (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PAID, S.READY), (S.PAID, S.PICKED_UP), (S.PAID, S.REFUNDING),
    (S.READY, S.PICKED_UP), (S.READY, S.REFUNDING),
    (S.PICKED_UP, S.REFUNDING),  # after-sale refund by a manager (issue 17)
    (S.CANCELLED, S.PAID), (S.CANCELLED, S.REFUNDING),
    (S.REFUNDING, S.REFUNDED), (S.REFUNDING, S.REFUND_FAILED), (S.REFUND_FAILED, S.REFUNDING),
    (S.REFUND_FAILED, S.REFUNDED),  # an ABNORMAL refund that WeChat Pay finishes after all
}


def test_the_table_is_the_documented_one():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


def make_order(status: OrderStatus) -> Order:
    customer = Customer(openid=f"o{utcnow().timestamp()}")
    db.session.add(customer)
    db.session.flush()
    now = utcnow()
    order = Order(order_no=str(int(now.timestamp() * 1e6)), customer_id=customer.id, store_id=factories.store(),
                  status=status.value, total_fen=100, created_at=now, updated_at=now,
                  expires_at=now + timedelta(minutes=15))
    db.session.add(order)
    db.session.commit()
    return order


@pytest.mark.parametrize("from_status, to_status", list(itertools.product(S, S)),
                         ids=lambda s: s.value)
def test_every_pair(app_ctx, from_status, to_status):
    order = make_order(from_status)
    if (from_status, to_status) in ALLOWED:
        transition(order, to_status, "test", "system:test")
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Order, order.id).status == to_status.value
        event = db.session.query(OrderEvent).one()
        assert (event.from_status, event.to_status, event.actor) == (from_status.value, to_status.value,
                                                                     "system:test")
    else:
        with pytest.raises(InvalidTransition) as info:
            transition(order, to_status, "test", "system:test")
        assert info.value.status == 409 and info.value.code == "invalid_transition"
        db.session.rollback()
        assert db.session.get(Order, order.id).status == from_status.value
        assert db.session.query(OrderEvent).count() == 0


def test_a_stale_read_loses_to_the_change_that_got_there_first(app_ctx):
    order = make_order(S.PENDING_PAYMENT)
    stale = db.session.get(Order, order.id)
    # another request pays it meanwhile (a raw UPDATE, as a second process would)
    db.session.execute(Order.__table__.update().where(Order.__table__.c.id == order.id).values(status="paid"))
    db.session.commit()
    set_committed_value(stale, "status", "pending_payment")  # what this request read before the payment
    with pytest.raises(ConcurrentTransition):
        transition(stale, S.CANCELLED, "customer_cancel", "customer:1")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    assert db.session.query(OrderEvent).count() == 0
