"""Regression guards that time nothing: the SQL statements each hot path sends, counted, on both databases.

A change that adds a statement to one of these paths fails here; one that removes a statement fails too, until the
constant is lowered (so the constants stay the truth). Each constant lists what its statements are; a failure
prints the statements actually sent. SQLite and MariaDB differ where Redis answers (MariaDB runs with Redis) or
where jobs run: without Redis, JOBS_EAGER runs a job right after the commit in the committing thread.
"""
from __future__ import annotations

from app.extensions import db
from app.followers.rules import add_rule
from tests import factories
from tests.perf.conftest import Statements, counting

REDEEM = "/api/v1/staff/pickups/redeem"

# name -> {backend: statements}, with what they are (MariaDB runs with Redis; SQLite without, so JOBS_EAGER runs the
# follow-up jobs in the request, after its commit).
EXPECTED: dict[str, dict[str, int]] = {
    # A customer's first request (its token not in the token cache yet): the customer by token (sessions join),
    # whose plain read is committed so that the customer's row lock comes first in the unit (its snapshot then
    # sees every earlier placement of the customer: app/orders/placement._lock_customer), the row FOR UPDATE; one
    # SELECT of the unpaid orders counted (the cap), an earlier order with the Idempotency-Key, the seat holding
    # the customer (issue 17), whether the cart holds lines at the store, the store and its opening intervals
    # (today's and yesterday's), the ordered SKUs it sells with their products; INSERT order (its number unchecked:
    # the unique key), its items (one INSERT however many), its event, by Core (app/orders/writes.py); UPDATE stock
    # (guarded by quantity >= n), that last one after the answer is rendered, right before the commit
    # (app/uow.lock_last). No DELETE of cart lines (the cart holds none), no attribution tag (no seat holds the
    # customer), no read of the customer after the commit (its id was taken before). The answer is rendered from
    # the values written (app/orders/placement.PlacedOrder): no SELECT.
    "placement": {"sqlite": 7, "mariadb": 7},
    # The next order of the same customer. MariaDB: the token from the token cache, so the lock opens the unit
    # and the token's read is not needed: 6, with an Idempotency-Key or without (its lookup is in the one SELECT).
    # SQLite (no cache): as the first.
    "placement_warm_token": {"sqlite": 7, "mariadb": 6},
    # INSERT the notification id (the dedup; it opens the transaction, so no SAVEPOINT; with the outcome it is
    # expected to have, "applied", so no UPDATE of it at the end unless it turned out otherwise); the order with its
    # payment and its store's promise terms (one SELECT, outer joins); INSERT payment; UPDATE order status (guarded)
    # and promised_ready_at, one UPDATE; INSERT event; INSERT code (no read first, no SAVEPOINT: a taken unique key
    # is a no-op, by ON DUPLICATE KEY / ON CONFLICT, and only then is the order's code read or a code drawn again;
    # its paid_at is the payment's, in hand); INSERT outbox job (its dedup key by ON DUPLICATE KEY / ON CONFLICT).
    # SQLite adds the eager job (15: claim, order, customer, code, payment, refunds, items, events, code, follower,
    # INSERT/UPDATE notification_log, grant, finish).
    "notify_first": {"sqlite": 22, "mariadb": 7},
    # MariaDB: none, the committed outcome is answered from Redis (app/fastpath.py). SQLite (no Redis): INSERT the
    # notification id (a duplicate key), the stored notification.
    "notify_repeat": {"sqlite": 2, "mariadb": 0},
    # Another notification id of the same transaction, once applied. MariaDB: none, the order's marker answers
    # (app/payments/notifications._paid_already: the transaction recorded, the amount, merchant and app id checked;
    # the id is not recorded). SQLite (no Redis): INSERT the id, the order with its payment and terms, UPDATE the
    # id's outcome to "repeat".
    "notify_other_id": {"sqlite": 3, "mariadb": 0},
    # The staff session by token, its seat; the code with its order, the order's items, the customer and the
    # store's commission rule (one SELECT, joined: app/pickup/handover._find); UPDATE order (guarded), INSERT event,
    # UPDATE code (guarded redeemed_at IS NULL; the session is told what it wrote, no refresh), INSERT shipping
    # report, the 3 outbox jobs in one INSERT (dedup keys by ON DUPLICATE KEY / ON CONFLICT, RETURNING what was
    # inserted: app/jobs.enqueue_all), INSERT pickup_attempts, then the request's commit (app/uow.py: the answer is
    # rendered before it, from the session, so nothing is read after it). SQLite adds the three eager jobs (29).
    "redeem_first": {"sqlite": 38, "mariadb": 9},
    # The seat (read on every request, so a disabled seat is refused at once: app/staff/service.seat_for_token),
    # INSERT pickup_attempts (every attempt is logged, one INSERT + commit). MariaDB: which seat the token is comes
    # from the token cache (app/token_cache.py) and the handover's marker in Redis answers (app/fastpath.py); SQLite
    # (no Redis): the staff session by token and the code. (The seat's SELECT was not counted while the first
    # redeem's commit left the test's shared session unexpired, which a served request's fresh session never is.)
    "redeem_repeat": {"sqlite": 4, "mariadb": 2},
    # The page comes from the catalog cache. With Redis (MariaDB) the whole rendered answer, stock included, tagged
    # with the catalog version and the stock version that every committed stock write bumps: no statement. Without
    # Redis (SQLite) the stock of its 20 SKUs, one query.
    "product_list_warm": {"sqlite": 1, "mariadb": 0},
    # 门店 is the stores help, the same for everyone: no follower lookup, no statement at all.
    "official_account_text": {"sqlite": 0, "mariadb": 0},
    # UPDATE the follower's last location by openid (no SELECT first: the answer needs nothing of the row; it is
    # read or made only when the UPDATE matched none, a first message). The active stores with their hours come
    # from the catalog cache (app/stores/service.nearest_open_cards).
    "official_account_location": {"sqlite": 1, "mariadb": 1},
    # A text no built-in keyword answers, matched against the keyword rules (app/followers/rules.match_rule): with
    # Redis, its copy of the rules at the current rules version (no SQL); without, the exact rule's SELECT and the
    # contains rules' SELECT.
    "official_account_rule_text": {"sqlite": 2, "mariadb": 0},
}


def check(name: str, backend: str, seen: Statements) -> None:
    expected = EXPECTED[name][backend]
    assert len(seen) == expected, (
        f"{name} on {backend}: {len(seen)} statements, the guard says {expected} "
        f"({'one was added: remove it or say why here' if len(seen) > expected else 'lower the constant'}):\n"
        + seen.listing())


def test_order_placement(app_ctx, client, backend):
    store_id = factories.store()
    sku_id = factories.product(specs=(("中杯", 2800),), stock={store_id: 10}).sku_ids[0]
    headers = factories.login(client)
    db.session.commit()
    with counting() as seen:
        response = client.post("/api/v1/orders", headers=headers,
                               json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]})
    assert response.status_code == 201, response.get_json()
    check("placement", backend, seen)
    db.session.commit()
    db.session.expunge_all()  # as a served request's fresh session: nothing of the first request's left in it
    with counting() as seen:
        response = client.post("/api/v1/orders", headers=headers,
                               json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]})
    assert response.status_code == 201, response.get_json()
    check("placement_warm_token", backend, seen)


def test_payment_notification_and_its_repeat(placed, notifier, app_ctx, backend):
    resource = notifier.resource(placed.order_no, placed.total_fen)
    body = notifier.body(resource)
    db.session.commit()
    with counting() as first:
        assert notifier.post(body).status_code == 204
    with counting() as repeat:
        assert notifier.post(body).status_code == 204
    with counting() as other_id:
        assert notifier.post(notifier.body(resource)).status_code == 204
    check("notify_first", backend, first)
    check("notify_repeat", backend, repeat)
    check("notify_other_id", backend, other_id)


def test_redeem_and_its_repeat(client, shop, paid_order, staff_member, app_ctx, backend):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    db.session.commit()
    with counting() as first:
        assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    with counting() as repeat:
        assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 409
    check("redeem_first", backend, first)
    check("redeem_repeat", backend, repeat)


def test_store_product_list_warm(app_ctx, client, backend):
    store_id = factories.store()
    for n in range(20):
        factories.product(f"商品{n}", stock={store_id: 100})
    db.session.commit()
    path = f"/api/v1/stores/{store_id}/products?per_page=20"
    assert client.get(path).status_code == 200  # cold: fills the catalog cache
    with counting() as seen:
        response = client.get(path)
    assert response.status_code == 200 and len(response.get_json()["items"]) == 20
    check("product_list_warm", backend, seen)


def test_official_account_text_and_location_answers(follower, app_ctx, backend):
    factories.store("静安店")  # factories.store's default place, which the location below is beside
    db.session.commit()
    follower.send_text("o-warm", "门店")  # the first answer of a process loads what later ones reuse
    follower.send_location("o-warm", 31.2243, 121.4458)
    with counting() as text_answer:
        assert "门店" in follower.send_text("o-warm", "门店").reply["Content"]
    with counting() as location_answer:
        assert "静安店" in follower.send_location("o-warm", 31.2243, 121.4458).reply["Content"]
    add_rule("营业时间", "contains", 0, "text", content="每天 9 点到 21 点")
    db.session.commit()  # bumps the rules' version: the copy is read again
    follower.send_text("o-warm", "营业时间?")
    with counting() as rule_answer:
        assert follower.send_text("o-warm", "几点营业时间").reply["Content"] == "每天 9 点到 21 点"
    check("official_account_text", backend, text_answer)
    check("official_account_location", backend, location_answer)
    check("official_account_rule_text", backend, rule_answer)
