"""Guessing codes is pointless: failed attempts are limited per seat (10 / 10 min) and per store (100 / h), the
store's count shared by all its seats."""
from app.extensions import db
from app.models import PickupAttempt
from tests import factories

LOOKUP, REDEEM = "/api/v1/staff/pickups/lookup", "/api/v1/staff/pickups/redeem"


def guess(client, staff, n, path=REDEEM):
    return client.post(path, headers=staff.headers, json={"code": f"{900000000000 + n:012d}"})


def assert_limited(response, most_s):
    assert response.status_code == 429, response.get_json()
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= most_s


def test_ten_failures_lock_a_seat_for_ten_minutes(client, shop, paid_order, staff_member, app_ctx):
    order, staff, colleague = paid_order(shop), staff_member(shop.store_id), staff_member(shop.store_id)
    for n in range(10):
        path = LOOKUP if n % 2 else REDEEM  # lookups are guesses too
        assert guess(client, staff, n, path).status_code == 404
    assert_limited(guess(client, staff, 10), 600)
    # even the right code waits: the seat is locked, not the code
    assert_limited(client.post(REDEEM, headers=staff.headers, json={"code": order.code}), 600)
    assert client.post(REDEEM, headers=colleague.headers, json={"code": order.code}).status_code == 200
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    outcomes = [a.outcome for a in db.session.query(PickupAttempt).filter_by(seat_id=staff.seat_id)]
    assert outcomes.count("pickup_not_found") == 10 and outcomes.count("rate_limited") == 2


def test_the_store_limit_holds_across_its_seats(client, shop, staff_member, paid_order, app_ctx):
    order = paid_order(shop)
    seats = [staff_member(shop.store_id) for _ in range(12)]
    sent = 0
    for staff in seats:  # 9 guesses per seat: never the per-seat limit, yet 108 from the store
        for _ in range(9):
            if sent == 100:
                break
            assert guess(client, staff, sent).status_code == 404
            sent += 1
    fresh = staff_member(shop.store_id)
    assert_limited(guess(client, fresh, 1000), 3600)
    assert_limited(client.post(REDEEM, headers=fresh.headers, json={"code": order.code}), 3600)
    # another store is not touched by this one's guessing
    elsewhere = factories.store()
    assert guess(client, staff_member(elsewhere), 2000).status_code == 404


def test_wrong_store_attempts_count_as_guesses(client, shop, paid_order, staff_member, app_ctx):
    order = paid_order(shop)
    stranger = staff_member(factories.store())
    assert client.post(LOOKUP, headers=stranger.headers, json={"code": order.code}).status_code == 404
    for n in range(9):
        assert guess(client, stranger, n, LOOKUP).status_code == 404
    assert_limited(guess(client, stranger, 9), 600)  # the other store's live code was the tenth guess


def test_repeating_one_guess_takes_one_slot_and_learns_nothing(client, shop, staff_member, app_ctx):
    staff = staff_member(shop.store_id)
    for _ in range(15):  # the same wrong code again and again (or scanned twice at once): one slot, one answer
        assert guess(client, staff, 0).status_code == 404
    for n in range(1, 10):
        assert guess(client, staff, n).status_code == 404
    assert_limited(guess(client, staff, 10), 600)


def test_showing_a_used_code_again_is_not_guessing(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    for _ in range(15):
        response = client.post(REDEEM, headers=staff.headers, json={"code": order.code})
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_redeemed"
    assert guess(client, staff, 1).status_code == 404  # the seat's allowance is untouched


def test_a_locked_seat_is_refused_even_a_used_codes_repeat(client, shop, paid_order, staff_member, app_ctx):
    # With Redis the repeat is answered from the handover's marker, in the limits' own script: the limits first.
    order, staff = paid_order(shop), staff_member(shop.store_id)
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    for n in range(10):
        assert guess(client, staff, n).status_code == 404
    assert_limited(client.post(REDEEM, headers=staff.headers, json={"code": order.code}), 600)


def test_a_code_handed_over_elsewhere_counts_as_a_guess_here(client, shop, paid_order, staff_member, app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    assert client.post(REDEEM, headers=staff.headers, json={"code": order.code}).status_code == 200
    stranger = staff_member(factories.store())
    for _ in range(2):  # its marker (with Redis) names the other store: it takes its slot and is logged wrong_store
        assert client.post(REDEEM, headers=stranger.headers, json={"code": order.code}).status_code == 404
    for n in range(9):
        assert guess(client, stranger, n).status_code == 404
    assert_limited(guess(client, stranger, 9), 600)
    db.session.commit()
    outcomes = [a.outcome for a in db.session.query(PickupAttempt).filter_by(seat_id=stranger.seat_id)]
    assert outcomes.count("wrong_store") == 2
