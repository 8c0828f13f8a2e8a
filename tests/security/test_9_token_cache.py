"""The token cache (app/token_cache.py) never outlives a revocation: a logged-out customer or staff token is refused
on the very next request, on this worker and on any other (a second app on the same database and Redis), even
though the token was cached just before; a request that read the session before the logout cannot cache it back;
a seat re-bound to another phone loses its cached tokens. Without Redis there is no cache and the same holds."""
from sqlalchemy import update

from app import create_app, token_cache
from app.customers.service import token_hash
from app.extensions import db, redis_client
from app.staff import service as staff_service
from app.models import StaffSeat
from tests import factories
from tests.conftest import mariadb_only


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


def test_a_logged_out_customer_token_is_refused_at_once_everywhere(client, app, app_config, app_ctx, backend):
    headers = factories.login(client)
    other_worker = create_app(app_config).test_client()  # another gunicorn worker: same database and Redis
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert other_worker.get("/api/v1/me", headers=headers).status_code == 200
    if backend == "mariadb":  # the token is cached now (Redis): the next requests would not ask the database
        assert token_cache.lookup("customer", token_hash(_token(headers))) is not None
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert other_worker.get("/api/v1/me", headers=headers).status_code == 401
    assert token_cache.lookup("customer", token_hash(_token(headers))) is None


def test_a_session_read_before_the_logout_cannot_be_cached_after_it(client, app_ctx):
    headers = factories.login(client)
    hashed = token_hash(_token(headers))
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    # A request on another thread read the session row just before the logout committed, and only now writes what
    # it read: the tombstone wins (SET NX), so the token is not let in again.
    token_cache.remember("customer", hashed, 1, factories_far_future())
    assert token_cache.lookup("customer", hashed) is None
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def factories_far_future():
    from datetime import timedelta

    from app.models import utcnow

    return utcnow() + timedelta(days=1)


def test_a_cached_customer_loads_its_columns_fresh(client, app_ctx):
    headers = factories.login(client)
    assert client.get("/api/v1/me", headers=headers).get_json()["phone"] is None  # cached from here on (Redis)
    assert client.post("/api/v1/me/phone", json={"code": "sandbox-phone-13800138000"},
                       headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).get_json()["phone"] == "138****8000"


def test_a_logged_out_staff_token_is_refused_at_once(client, app_ctx, shop, staff_member):
    staff = staff_member(shop.store_id)
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 200  # cached (Redis)
    assert client.post("/api/v1/staff/auth/logout", headers=staff.headers).status_code == 204
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 401


def test_a_disabled_or_rebound_seat_is_refused_at_once(client, app_ctx, shop, staff_member):
    first, second = staff_member(shop.store_id), staff_member(shop.store_id)
    for staff in (first, second):
        assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 200  # cached (Redis)
    staff_service.disable_seat(db.session.get(StaffSeat, first.seat_id))
    db.session.commit()
    assert client.get("/api/v1/staff/pickups", headers=first.headers).status_code == 401
    # The second seat is bound to another phone: its old sessions end (app/staff/service._take_openid).
    seat = db.session.get(StaffSeat, second.seat_id)
    staff_service._take_openid("another-phone-openid", seat)
    seat.openid = "another-phone-openid"
    db.session.commit()
    assert client.get("/api/v1/staff/pickups", headers=second.headers).status_code == 401


@mariadb_only
def test_logout_without_redis_is_503_and_revokes_nothing(client, app, app_ctx, backend, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    headers = factories.login(client)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    redis = redis_client()

    def down(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(type(redis), "pipeline", down)
    response = client.post("/api/v1/auth/logout", headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"]
    monkeypatch.undo()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # the logout did not happen: say so, retry
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_served_request_reads_its_seat_afresh(client, app_config, app_ctx, shop, staff_member):
    """On a worker whose every request has a session of its own (as served), the seat is attached from its one
    lean read (app/staff/service.seat_for_token, app/attached.py), its token cached: a role changed and a seat
    disabled by hand (another connection, no session of ours told) are seen on the very next request."""
    clerk = staff_member(shop.store_id)
    worker = create_app(app_config).test_client()
    assert worker.get("/api/v1/staff/pickups", headers=clerk.headers).status_code == 200  # cached (Redis)
    assert worker.post("/api/v1/staff/invites", headers=clerk.headers, json={}).status_code == 403
    db.session.execute(update(StaffSeat).where(StaffSeat.id == clerk.seat_id).values(role="manager"))
    db.session.commit()
    response = worker.post("/api/v1/staff/invites", headers=clerk.headers, json={"name": "新人"})
    assert response.status_code == 201 and response.get_json()["seat"]["store_id"] == shop.store_id
    db.session.execute(update(StaffSeat).where(StaffSeat.id == clerk.seat_id).values(active=False))
    db.session.commit()
    assert worker.get("/api/v1/staff/pickups", headers=clerk.headers).status_code == 401


def test_me_from_the_token_cache_answers_as_from_the_database(client, app_config, app_ctx):
    """The first /me reads the session and its customer joined; the next ones find the token cached and read the
    profile's columns alone (app/customers/service.with_profile): the same answer, the phone bound meanwhile too."""
    headers = factories.login(client, "profiled")
    worker = create_app(app_config).test_client()
    first, cached = (worker.get("/api/v1/me", headers=headers).get_json() for _ in range(2))
    assert first == cached and first["has_phone"] is False and first["created_at"]
    assert client.post("/api/v1/me/phone", json={"code": "sandbox-phone-13800138000"},
                       headers=headers).status_code == 200
    db.session.commit()
    assert worker.get("/api/v1/me", headers=headers).get_json() == {**first, "phone": "138****8000",
                                                                      "has_phone": True}
