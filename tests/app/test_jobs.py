"""Background jobs: enqueued only after the commit, run by a real RQ worker (or in-process without Redis), and the
payment timeout job safe to run twice."""
from datetime import timedelta

from rq import SimpleWorker

from app import jobs
from app.extensions import db
from app.models import Order, OrderEvent, StoreStock, utcnow
from app.jobs_relay import enqueue_due_periodic
from app.models import OutboxJob
from app.orders.jobs import expire_due_orders
from app.schedule import PERIODIC

from tests import factories
from tests.conftest import mariadb_only, sqlite_only

PERIODIC_TARGETS = [jobs.target_of(func) for func, _ in PERIODIC]


def place_expired_order(client, quantity=3):
    store_id = factories.store()
    made = factories.product(stock={store_id: 10})
    headers = factories.login(client)
    order_no = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": quantity}]}).get_json()["order_no"]
    order = db.session.query(Order).filter_by(order_no=order_no).one()
    order.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return order.id, store_id, made.sku_ids[0]


def run_worker(app):
    SimpleWorker([jobs.queue(app)], connection=app.extensions["micromall_redis"]).work(burst=True)


@mariadb_only
def test_nothing_is_enqueued_before_the_commit_or_after_a_rollback(app_ctx):
    q = jobs.queue()
    jobs.enqueue(expire_due_orders)
    assert q.count == 0  # still inside the transaction
    db.session.rollback()
    assert q.count == 0
    jobs.enqueue(expire_due_orders)
    db.session.commit()
    assert q.count == 1


@mariadb_only
def test_expiry_runs_on_a_real_worker_and_is_safe_twice(app_ctx, client):
    order_id, store_id, sku_id = place_expired_order(client)
    assert db.session.get(StoreStock, (store_id, sku_id)).quantity == 7
    for _ in range(2):
        jobs.enqueue(expire_due_orders)
        db.session.commit()
        run_worker(app_ctx)
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "cancelled"
    assert db.session.get(StoreStock, (store_id, sku_id)).quantity == 10
    events = db.session.query(OrderEvent).filter_by(order_id=order_id, to_status="cancelled").all()
    assert [(e.reason, e.actor) for e in events] == [("payment_timeout", "system:payment_timeout")]


@mariadb_only
def test_the_relay_enqueues_every_periodic_job_once(app_ctx):
    assert len(enqueue_due_periodic({})) == len(PERIODIC)
    assert enqueue_due_periodic({}) == PERIODIC_TARGETS  # a second loop tries, but one copy waits at a time
    assert db.session.query(OutboxJob).count() == len(PERIODIC)
    assert jobs.queue().count == len(PERIODIC)  # handed over after each commit
    run_worker(app_ctx)
    assert jobs.queue().count == 0
    db.session.rollback()  # a fresh snapshot (MariaDB's REPEATABLE READ)
    assert {row.status for row in db.session.query(OutboxJob)} == {"done"}


@sqlite_only
def test_without_redis_jobs_run_in_process_after_the_commit(app_ctx, client):
    assert app_ctx.extensions["micromall_redis"] is None and app_ctx.config["JOBS_EAGER"]
    order_id, store_id, sku_id = place_expired_order(client)
    jobs.enqueue(expire_due_orders)
    assert db.session.get(Order, order_id).status == "pending_payment"  # not before the commit
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "cancelled"
    assert db.session.get(StoreStock, (store_id, sku_id)).quantity == 10


def test_an_order_not_yet_due_is_left_alone(app_ctx, client):
    store_id = factories.store()
    made = factories.product(stock={store_id: 10})
    headers = factories.login(client)
    client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 1}]})
    assert expire_due_orders() == 0
    assert db.session.query(Order).one().status == "pending_payment"
