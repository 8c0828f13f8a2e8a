"""Attribution: the first staff code owns a customer at its store for the window; store codes attribute to the
store alone; bad, unknown and expired scenes are 4xx and write nothing; replays are bounded; races have one
winner."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.attribution.scenes import WECHAT_SCENE, rotate
from app.extensions import db
from app.models import AttributionScene, CustomerAttribution, OrderAttribution, StaffSeat, utcnow
from app.staff.service import disable_seat
from tests import factories
from tests.attribution.conftest import ATTRIBUTION, attribution_rows, scene_of
from tests.conftest import mariadb_only
from tests.race import run_together


def test_the_first_staff_code_owns_the_customer_at_its_store(client, shop, staff_member, arrive, app_ctx):
    first, second = staff_member(shop.store_id, name="小王"), staff_member(shop.store_id, name="小李")
    alice = factories.login(client, "alice")
    body = arrive(alice, scene_of(shop.store_id, first.seat_id)).get_json()
    assert body["outcome"] == "attributed" and body["staff"] == {"seat_id": first.seat_id, "name": "小王"}
    assert body["store"]["id"] == shop.store_id and body["attributed_until"]
    body = arrive(alice, scene_of(shop.store_id, second.seat_id)).get_json()
    assert body["outcome"] == "kept" and body["staff"]["seat_id"] == first.seat_id  # no takeover inside the window
    # The window over, the next staff code takes the customer.
    db.session.execute(update(CustomerAttribution).values(seat_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert arrive(alice, scene_of(shop.store_id, second.seat_id)).get_json()["outcome"] == "attributed"
    assert attribution_rows() == (1, 3)


def test_the_window_is_configurable(app_config, client, shop, staff_member, arrive, app_ctx):
    staff = staff_member(shop.store_id)
    body = arrive(factories.login(client), scene_of(shop.store_id, staff.seat_id)).get_json()
    row = db.session.query(CustomerAttribution).one()
    assert abs((row.seat_until - row.seat_since) - timedelta(days=30)) < timedelta(seconds=1)
    assert body["attributed_until"] == row.seat_until.isoformat()


def test_a_store_code_attributes_to_the_store_alone(client, shop, staff_member, arrive, app_ctx):
    staff = staff_member(shop.store_id)
    alice = factories.login(client)
    body = arrive(alice, scene_of(shop.store_id)).get_json()
    assert body == {"outcome": "store", "store": body["store"], "staff": None, "attributed_until": None}
    row = db.session.query(CustomerAttribution).one()
    assert row.first_source == "store_code" and row.seat_id is None
    # The store's code does not stand in a clerk's way.
    assert arrive(alice, scene_of(shop.store_id, staff.seat_id)).get_json()["outcome"] == "attributed"


def test_a_scene_from_another_store_attributes_there_only(client, shop, paid_order, staff_member, arrive, app_ctx):
    other_store = factories.store()
    here, there = staff_member(shop.store_id), staff_member(other_store)
    alice = factories.login(client, "alice")
    arrive(alice, scene_of(shop.store_id, here.seat_id))
    assert arrive(alice, scene_of(other_store, there.seat_id)).get_json()["outcome"] == "attributed"
    rows = {r.store_id: r.seat_id for r in db.session.query(CustomerAttribution)}
    assert rows == {shop.store_id: here.seat_id, other_store: there.seat_id}
    order = paid_order(shop, "alice")
    db.session.rollback()
    assert db.session.get(OrderAttribution, order.order_id).seat_id == here.seat_id


@pytest.mark.parametrize("scene, status, code", [
    ("", 400, "invalid_request"), ("a" * 33, 400, "invalid_request"), ("百货", 400, "invalid_request"),
    ("abc%20def", 400, "invalid_request"), (12345, 400, "invalid_request"), (None, 400, "invalid_request"),
    (["x"], 400, "invalid_request"), ('"x\\ud800"', 400, "invalid_request"),
    ("NoSuchSceneAtAll0000", 404, "scene_not_found"), ("store_1", 404, "scene_not_found"),
])
def test_bad_and_unknown_scenes_are_4xx_and_write_nothing(client, shop, staff_member, scene, status, code, app_ctx):
    staff_member(shop.store_id)
    if isinstance(scene, str) and scene.startswith('"'):  # raw JSON: a lone surrogate escape
        response = client.post(ATTRIBUTION, headers=factories.login(client), data=f'{{"scene": {scene}}}',
                               content_type="application/json")
    else:
        response = client.post(ATTRIBUTION, headers=factories.login(client), json={"scene": scene})
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert attribution_rows() == (0, 0)


def test_a_scene_differing_only_in_case_is_not_ours(client, shop, staff_member, arrive, app_ctx):
    scene = scene_of(shop.store_id, staff_member(shop.store_id).seat_id)
    swapped = scene.swapcase()
    assert arrive(factories.login(client), swapped, 404).get_json()["error"]["code"] == "scene_not_found"
    assert attribution_rows() == (0, 0)


def test_scenes_are_short_opaque_and_rotate_with_a_grace_period(client, shop, staff_member, arrive, app_ctx):
    staff = staff_member(shop.store_id)
    old = scene_of(shop.store_id, staff.seat_id)
    # Opaque: random letters and digits, not the seat's id (a digits-only scene of 20 characters is never drawn).
    assert WECHAT_SCENE.match(old) and len(old) <= 32 and not old.isdigit()
    assert scene_of(shop.store_id, staff.seat_id) == old  # stable until rotated
    new = rotate(shop.store_id, staff.seat_id).scene
    db.session.commit()
    assert new != old and scene_of(shop.store_id, staff.seat_id) == new
    alice, bob = factories.login(client, "alice"), factories.login(client, "bob")
    assert arrive(alice, old).get_json()["outcome"] == "attributed"  # inside its grace period
    db.session.execute(update(AttributionScene).where(AttributionScene.scene == old)
                       .values(valid_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert arrive(bob, old, 410).get_json()["error"]["code"] == "scene_expired"
    assert arrive(bob, new).get_json()["outcome"] == "attributed"
    assert attribution_rows() == (2, 2)


def test_a_disabled_seats_scene_expires_and_its_customers_orders_stop_counting(client, shop, paid_order,
                                                                               staff_member, arrive, app_ctx):
    staff = staff_member(shop.store_id)
    scene = scene_of(shop.store_id, staff.seat_id)
    arrive(factories.login(client, "alice"), scene)
    before = paid_order(shop, "alice")
    disable_seat(db.session.get(StaffSeat, staff.seat_id))
    db.session.commit()
    after = paid_order(shop, "alice")
    db.session.rollback()
    assert db.session.get(OrderAttribution, before.order_id) is not None
    assert db.session.get(OrderAttribution, after.order_id) is None
    assert arrive(factories.login(client, "bob"), scene, 410).get_json()["error"]["code"] == "scene_expired"


def test_an_order_without_attribution_carries_no_seat(client, shop, paid_order, staff_member, app_ctx):
    staff_member(shop.store_id)
    order = paid_order(shop, "walkin")
    db.session.rollback()
    assert db.session.get(OrderAttribution, order.order_id) is None


def test_a_bot_replaying_a_scene_is_bounded_and_attributes_once(client, shop, staff_member, arrive, app_ctx):
    scene = scene_of(shop.store_id, staff_member(shop.store_id).seat_id)
    bot = factories.login(client, "bot")
    statuses = [arrive(bot, scene, None).status_code for _ in range(25)]
    assert statuses == [200] * 20 + [429] * 5
    limited = arrive(bot, scene, 429)
    assert limited.headers["Retry-After"] and limited.get_json()["error"]["code"] == "rate_limited"
    assert attribution_rows() == (1, 20)
    # Guessing is bounded the same way: the limit counts every call.
    assert arrive(bot, "Guess000000000000000", 429).status_code == 429


def test_unauthenticated_callers_are_refused(client, shop, staff_member, app_ctx):
    scene = scene_of(shop.store_id, staff_member(shop.store_id).seat_id)
    assert client.post(ATTRIBUTION, json={"scene": scene}).status_code == 401
    assert attribution_rows() == (0, 0)


@mariadb_only
def test_two_clerks_scanned_at_once_one_owns_the_customer(app, client, staff_member, sandbox):
    with app.app_context():
        store_id = factories.store()
    seats = [staff_member(store_id) for _ in range(4)]
    with app.app_context():
        scenes = [scene_of(store_id, s.seat_id) for s in seats]
    for n in range(3):
        headers = factories.login(client, f"racer{n}")
        responses = run_together([
            lambda scene=scene: app.test_client().post(ATTRIBUTION, headers=headers, json={"scene": scene})
            for scene in scenes])
        assert [r.status_code for r in responses] == [200] * 4, [r.get_json() for r in responses]
        outcomes = sorted(r.get_json()["outcome"] for r in responses)
        assert outcomes == ["attributed", "kept", "kept", "kept"]
        owners = {r.get_json()["staff"]["seat_id"] for r in responses}
        assert len(owners) == 1
    with app.app_context():
        assert attribution_rows() == (3, 12)
