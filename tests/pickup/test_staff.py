"""Staff seats: one-time invites (CLI and manager), binding, login with the staff app, disabled seats locked out."""
from datetime import timedelta

from app.extensions import db
from app.models import StaffInvite, StaffSeat, StaffSession, utcnow
from app.staff.service import create_invite, create_seat, disable_seat
from tests import factories
from tests.pickup.conftest import _counter


def _code(openid):
    return f"sandbox-{openid}.{next(_counter)}"


def _invite(store_id, role="clerk"):
    seat = create_seat(store_id, role, "小王")
    code, _ = create_invite(seat, "test")
    db.session.commit()
    return seat.id, code


def test_bind_then_login_with_the_staff_app(client, shop, app_ctx, sandbox):
    seat_id, invite_code = _invite(shop.store_id)
    response = client.post("/api/v1/staff/auth/login", json={"code": _code("clerk-a")})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "staff_not_bound"
    response = client.post("/api/v1/staff/auth/bind",
                           json={"code": _code("clerk-a"), "invite_code": invite_code.lower().replace("-", " ")})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["staff"] == {"id": seat_id, "store_id": shop.store_id, "role": "clerk", "name": "小王"}
    response = client.post("/api/v1/staff/auth/login", json={"code": _code("clerk-a")})
    assert response.status_code == 200 and response.get_json()["staff"]["id"] == seat_id
    token = response.get_json()["token"]
    assert client.get("/api/v1/staff/pickups", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # the consumer app's login does not make a staff member, and a consumer token is no staff token
    consumer = client.post("/api/v1/auth/login", json={"code": _code("clerk-a")}).get_json()["token"]
    assert client.get("/api/v1/staff/pickups", headers={"Authorization": f"Bearer {consumer}"}).status_code == 401
    assert db.session.query(StaffSession).filter_by(token_hash=token).count() == 0  # only hashes are stored


def test_binding_with_a_used_or_expired_invite_fails(client, shop, app_ctx):
    _, invite_code = _invite(shop.store_id)
    assert client.post("/api/v1/staff/auth/bind",
                       json={"code": _code("first"), "invite_code": invite_code}).status_code == 200
    response = client.post("/api/v1/staff/auth/bind", json={"code": _code("second"), "invite_code": invite_code})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invite_used"
    response = client.post("/api/v1/staff/auth/bind", json={"code": _code("second"), "invite_code": "NOPE-NOPE"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "invite_not_found"
    _, late_code = _invite(shop.store_id)
    db.session.query(StaffInvite).filter(StaffInvite.used_at.is_(None)).update(
        {"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    response = client.post("/api/v1/staff/auth/bind", json={"code": _code("second"), "invite_code": late_code})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invite_expired"
    assert client.post("/api/v1/staff/auth/login", json={"code": _code("second")}).status_code == 403


def test_a_new_invite_replaces_the_old_one(client, shop, app_ctx):
    seat_id, old = _invite(shop.store_id)
    new, _ = create_invite(db.session.get(StaffSeat, seat_id), "test")
    db.session.commit()
    assert client.post("/api/v1/staff/auth/bind", json={"code": _code("x"), "invite_code": old}).status_code == 409
    assert client.post("/api/v1/staff/auth/bind", json={"code": _code("x"), "invite_code": new}).status_code == 200


def test_a_disabled_seat_is_locked_out_at_once(client, shop, staff_member, app_ctx):
    staff = staff_member(shop.store_id)
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 200
    disable_seat(db.session.get(StaffSeat, staff.seat_id))
    db.session.commit()
    for method, path in (("get", "/api/v1/staff/pickups"), ("get", "/api/v1/staff/redemptions"),
                         ("post", "/api/v1/staff/pickups/redeem")):
        response = getattr(client, method)(path, headers=staff.headers, json={"code": "123456789012"})
        assert response.status_code == 401, (path, response.get_json())
    response = client.post("/api/v1/staff/auth/login", json={"code": _code(f"staff{staff.seat_id}")})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "staff_not_bound"


def test_disabled_by_a_flag_alone_still_locks_out(client, shop, staff_member, app_ctx):
    """Even with its sessions left in place (a flag flipped by hand), the seat's tokens stop working."""
    staff = staff_member(shop.store_id)
    db.session.get(StaffSeat, staff.seat_id).active = False
    db.session.commit()
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 401


def test_a_manager_invites_staff_of_their_own_store_only(client, shop, staff_member, app_ctx):
    manager, clerk = staff_member(shop.store_id, "manager"), staff_member(shop.store_id)
    response = client.post("/api/v1/staff/invites", headers=clerk.headers, json={})
    assert response.status_code == 403
    response = client.post("/api/v1/staff/invites", headers=manager.headers, json={"name": "新人"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["seat"]["store_id"] == shop.store_id and body["seat"]["role"] == "clerk"
    assert client.post("/api/v1/staff/auth/bind",
                       json={"code": _code("newbie"), "invite_code": body["invite_code"]}).status_code == 200
    other_store = factories.store()
    foreign_seat, _ = _invite(other_store)
    response = client.post("/api/v1/staff/invites", headers=manager.headers, json={"seat_id": foreign_seat})
    assert response.status_code == 404
    response = client.post("/api/v1/staff/invites", headers=manager.headers, json={"role": "owner"})
    assert response.status_code == 400 and "role" in response.get_json()["error"]["details"]["fields"]


def test_an_openid_holds_one_active_seat(client, shop, app_ctx):
    _, first = _invite(shop.store_id)
    _, second = _invite(shop.store_id)
    assert client.post("/api/v1/staff/auth/bind", json={"code": _code("twin"), "invite_code": first}).status_code == 200
    response = client.post("/api/v1/staff/auth/bind", json={"code": _code("twin"), "invite_code": second})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "staff_already_bound"


def test_cli_invite_prints_the_code_last_and_disable_locks_out(app, client, shop, app_ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "invite", "--store", str(shop.store_id), "--role", "manager"])
    assert result.exit_code == 0, result.output
    invite_code = result.output.strip().splitlines()[-1]
    response = client.post("/api/v1/staff/auth/bind", json={"code": _code("boss"), "invite_code": invite_code})
    assert response.status_code == 200 and response.get_json()["staff"]["role"] == "manager"
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    seat_id = response.get_json()["staff"]["id"]
    assert runner.invoke(args=["staff", "invite", "--store", "99999"]).exit_code != 0
    result = runner.invoke(args=["staff", "disable", "--seat", str(seat_id)])
    assert result.exit_code == 0, result.output
    db.session.commit()  # ends the read snapshot too (MariaDB: repeatable read)
    assert client.get("/api/v1/staff/pickups", headers=headers).status_code == 401
