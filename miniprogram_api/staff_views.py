"""The staff mini-program's accounts: login, binding with an invite, and a manager inviting staff."""
from __future__ import annotations

from flask import jsonify

from app.errors import NotFound, invalid_field
from app.extensions import db
from app.models import STAFF_ROLES, StaffSeat
from app.staff import service as staff_service
from miniprogram_api.auth import bearer_token
from miniprogram_api.params import body_int, body_str, json_body
from miniprogram_api.render import iso
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required
from miniprogram_api.staff_render import seat_json


def _session(token: str, expires_in: int, seat: StaffSeat):
    return jsonify(token=token, expires_in=expires_in, staff=seat_json(seat))


@staff.post("/auth/login")
def login():
    code = body_str(json_body(), "code", max_length=128)
    token, expires_in, seat = staff_service.login(code)
    db.session.commit()
    return _session(token, expires_in, seat)


@staff.post("/auth/bind")
def bind():
    body = json_body()
    code = body_str(body, "code", max_length=128)
    invite_code = body_str(body, "invite_code", max_length=64)
    token, expires_in, seat = staff_service.bind(code, invite_code)
    db.session.commit()
    return _session(token, expires_in, seat)


@staff.post("/auth/logout")
@staff_required
def logout():
    """Revokes the staff token it is called with (204)."""
    staff_service.logout(bearer_token())
    db.session.commit()
    return "", 204


@staff.post("/invites")
@manager_required
def create_invite():
    """A manager invites staff of their own store: for an existing seat (`seat_id`, e.g. a new phone) or a new one
    (`role`, `name`)."""
    body = json_body()
    manager = current_seat()
    seat_id = body_int(body, "seat_id", minimum=1, required=False)
    if seat_id is not None:
        seat = db.session.get(StaffSeat, seat_id)
        if seat is None or seat.store_id != manager.store_id:
            raise NotFound(f"Staff seat {seat_id} does not exist at this store.")
    else:
        role = body_str(body, "role", max_length=16, required=False, default="clerk")
        if role not in STAFF_ROLES:
            raise invalid_field("role", f"must be one of {', '.join(STAFF_ROLES)}")
        seat = staff_service.create_seat(manager.store_id, role,
                                         body_str(body, "name", max_length=64, required=False, default=""))
    code, invite = staff_service.create_invite(seat, f"staff:{manager.id}")
    db.session.commit()
    return jsonify(seat=seat_json(seat), invite_code=code, expires_at=iso(invite.expires_at)), 201
