"""The ledger: earned at the handover (rate on the amount paid to the order's seat, a fixed amount to the redeemer),
reversed once when the order is refunded afterwards, adjusted by a manager; append-only; exact under races."""
import pytest
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import CommissionEntry, Order, Refund, StaffSeat
from app.payments import refunds
from app.payments.gateway import RefundState
from app.payments.refunds import apply_refund_state
from app.staff.service import disable_seat
from tests import factories
from tests.attribution.conftest import REDEEM, entries, net, rule, scene_of
from tests.conftest import mariadb_only
from tests.pickup.conftest import Shop
from tests.race import run_together

ADJUST = "/api/v1/staff/commission/adjustments"


@pytest.fixture
def no_refund_requests(monkeypatch):
    """The paid orders of these tests were paid without the sandbox (tests/pickup's fixture), so WeChat would not
    know them: the refund is settled here by the function a refund notification calls."""
    # The outbox runs the job registered under request_refund's name: replace it there.
    monkeypatch.setitem(jobs._REGISTRY, jobs.target_of(refunds.request_refund), lambda refund_id: "not_asked")


def settle_refund(order_id: int, status: str = "SUCCESS") -> str:
    db.session.rollback()
    refund = db.session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id.desc())).first()
    outcome = apply_refund_state(refund, RefundState(refund.out_refund_no, status), "wechatpay:refund_notify")
    db.session.commit()
    return outcome


def attributed_order(client, shop, paid_order, seat_id, openid="alice", quantity=1):
    from tests.attribution.conftest import ATTRIBUTION

    assert client.post(ATTRIBUTION, headers=factories.login(client, openid),
                       json={"scene": scene_of(shop.store_id, seat_id)}).status_code == 200
    return paid_order(shop, openid, quantity)


def test_a_pickup_earns_and_a_later_refund_reverses(client, shop, paid_order, staff_member, no_refund_requests,
                                                    app_ctx):
    rule(shop.store_id, rate_bp=500, per_handover_fen=100)  # 5 % and ¥1 a handover
    inviter, counter = staff_member(shop.store_id), staff_member(shop.store_id)
    manager = staff_member(shop.store_id, "manager")
    order = attributed_order(client, shop, paid_order, inviter.seat_id, quantity=3)  # 3 x 2800 = 8400 fen
    assert entries() == []  # nothing before the handover
    assert client.post(REDEEM, headers=counter.headers, json={"code": order.code}).status_code == 200
    assert entries() == [(inviter.seat_id, "earned", "attribution", 420), (counter.seat_id, "earned", "handover", 100)]
    response = client.post(f"/api/v1/staff/orders/{order.order_no}/refund", headers=manager.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "refunding", response.get_json()
    assert len(entries()) == 2  # reversed when the money is back, not before
    assert settle_refund(order.order_id) == "refunded"
    assert entries(kind="reversed") == [(inviter.seat_id, "reversed", "attribution", -420),
                                        (counter.seat_id, "reversed", "handover", -100)]
    assert net(inviter.seat_id) == 0 and net(counter.seat_id) == 0
    # A repeated notification, and the hook run again, write nothing.
    assert settle_refund(order.order_id) == "repeat"
    from app.commission.ledger import reverse_for_order
    assert reverse_for_order(db.session.get(Order, order.order_id), "test") == []
    db.session.commit()
    assert len(entries()) == 4


def test_an_after_sale_refund_puts_no_stock_back_and_needs_a_manager(client, shop, paid_order, staff_member,
                                                                     no_refund_requests, app_ctx):
    from app.models import StoreStock

    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    order = paid_order(shop, "alice", 2)
    path = f"/api/v1/staff/orders/{order.order_no}/refund"
    assert client.post(path, headers=manager.headers).get_json()["error"]["code"] == "invalid_transition"  # not yet
    client.post(REDEEM, headers=clerk.headers, json={"code": order.code})
    assert client.post(path, headers=clerk.headers).status_code == 403
    other_manager = staff_member(factories.store(), "manager")
    assert client.post(path, headers=other_manager.headers).status_code == 404
    assert client.post("/api/v1/staff/orders/x1/refund", headers=manager.headers).status_code == 404
    assert client.post(path, headers=manager.headers).status_code == 200
    assert client.post(path, headers=manager.headers).status_code == 409
    db.session.rollback()
    assert db.session.get(StoreStock, (shop.store_id, shop.sku_id)).quantity == 98


def test_no_rule_no_commission_and_a_disabled_seat_earns_nothing_new(client, shop, paid_order, staff_member,
                                                                     app_ctx):
    inviter, counter = staff_member(shop.store_id), staff_member(shop.store_id)
    first = attributed_order(client, shop, paid_order, inviter.seat_id)
    second = paid_order(shop, "alice")
    client.post(REDEEM, headers=counter.headers, json={"code": first.code})
    assert entries() == []  # the store has no rule
    rule(shop.store_id, rate_bp=1000)
    disable_seat(db.session.get(StaffSeat, inviter.seat_id))  # mid-period
    db.session.commit()
    client.post(REDEEM, headers=counter.headers, json={"code": second.code})
    assert entries() == []


def test_rounding_is_down_to_the_fen(client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, rate_bp=333)
    inviter, counter = staff_member(shop.store_id), staff_member(shop.store_id)
    order = attributed_order(client, shop, paid_order, inviter.seat_id)  # 2800 fen
    client.post(REDEEM, headers=counter.headers, json={"code": order.code})
    assert entries() == [(inviter.seat_id, "earned", "attribution", 93)]  # 93.24 -> 93


def test_the_ledger_is_append_only(client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, per_handover_fen=50)
    counter = staff_member(shop.store_id)
    client.post(REDEEM, headers=counter.headers, json={"code": paid_order(shop).code})
    entry = db.session.scalars(select(CommissionEntry)).one()
    entry.amount_fen = 1_000_000
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(CommissionEntry)).one())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert entries() == [(counter.seat_id, "earned", "handover", 50)]


def test_a_manager_adjusts_with_a_reason(client, shop, staff_member, app_ctx):
    clerk, manager = staff_member(shop.store_id), staff_member(shop.store_id, "manager")
    stranger = staff_member(factories.store())
    response = client.post(ADJUST, headers=manager.headers,
                           json={"seat_id": clerk.seat_id, "amount_fen": -250, "reason": "扣回重复计提"})
    assert response.status_code == 201 and response.get_json()["kind"] == "adjusted"
    assert client.post(ADJUST, headers=clerk.headers,
                       json={"seat_id": clerk.seat_id, "amount_fen": 9999, "reason": "me"}).status_code == 403
    assert client.post(ADJUST, headers=manager.headers,
                       json={"seat_id": stranger.seat_id, "amount_fen": 1, "reason": "x"}).status_code == 404
    for bad in ({"seat_id": clerk.seat_id, "amount_fen": 0, "reason": "x"},
                {"seat_id": clerk.seat_id, "amount_fen": 10**9, "reason": "x"},
                {"seat_id": clerk.seat_id, "amount_fen": 1.5, "reason": "x"},
                {"seat_id": clerk.seat_id, "amount_fen": 5, "reason": "  "},
                {"seat_id": clerk.seat_id, "amount_fen": 5}):
        response = client.post(ADJUST, headers=manager.headers, json=bad)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request", bad
    assert entries() == [(clerk.seat_id, "adjusted", "manual", -250)]


@mariadb_only
def test_simultaneous_pickups_of_one_customers_orders_sum_exactly(app, client, paid_order, staff_member, sandbox):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(specs=(("大杯", 3000),), stock={store_id: 100})
        rule(store_id, rate_bp=1000, per_handover_fen=10)
    shop = Shop(store_id, made.sku_ids[0])
    inviter = staff_member(store_id)
    counters = [staff_member(store_id) for _ in range(3)]
    with app.app_context():
        orders = [attributed_order(client, shop, paid_order, inviter.seat_id, "regular")]
    orders += [paid_order(shop, "regular") for _ in range(5)]
    responses = run_together([
        lambda o=o, i=i: app.test_client().post(REDEEM, headers=counters[i % 3].headers, json={"code": o.code})
        for i, o in enumerate(orders)])
    assert [r.status_code for r in responses] == [200] * 6, [r.get_json() for r in responses]
    with app.app_context():
        assert net(inviter.seat_id) == 6 * 300
        assert sum(net(c.seat_id) for c in counters) == 6 * 10
        assert len(entries()) == 12


@mariadb_only
def test_a_refund_racing_a_pickup_leaves_the_ledger_consistent(app, client, paid_order, staff_member, sandbox,
                                                                 no_refund_requests):
    with app.app_context():
        store_id = factories.store()
        made = factories.product(stock={store_id: 50})
        rule(store_id, rate_bp=1000, per_handover_fen=10)
    shop = Shop(store_id, made.sku_ids[0])
    inviter, counter = staff_member(store_id), staff_member(store_id)
    with app.app_context():
        orders = [attributed_order(client, shop, paid_order, inviter.seat_id, f"racer{i}") for i in range(6)]
    handed_over = 0
    for order in orders:
        redeem, cancel = run_together([
            lambda: app.test_client().post(REDEEM, headers=counter.headers, json={"code": order.code}),
            lambda: app.test_client().post(f"/api/v1/orders/{order.order_no}/cancel", headers=order.headers)])
        assert sorted([redeem.status_code, cancel.status_code]) == [200, 409]
        handed_over += redeem.status_code == 200
        with app.app_context():
            lines = entries(order_id=order.order_id)
            assert len(lines) == (2 if redeem.status_code == 200 else 0)
            if cancel.status_code == 200:
                settle_refund(order.order_id)  # the refund completes: nothing was earned, nothing to reverse
                assert entries(order_id=order.order_id) == []
    with app.app_context():
        assert net(inviter.seat_id) == handed_over * 100 and net(counter.seat_id) == handed_over * 10
