"""The staff mini-program's accounts: login, binding with an invite, and a manager inviting staff."""
from __future__ import annotations

from flask import jsonify

from app.errors import NotFound
from app.extensions import db
from app.models import StaffSeat
from app.staff import service as staff_service
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import bearer_token
from miniprogram_api.render import iso
from miniprogram_api.schemas.staff import BindBody, InviteBody, InviteOut, StaffCodeBody, StaffSessionOut
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required
from miniprogram_api.staff_render import seat_json

ACCOUNT = ("staff", "account")


def _session(token: str, expires_in: int, seat: StaffSeat):
    return jsonify(token=token, expires_in=expires_in, staff=seat_json(seat))


@staff.post("/auth/login")
@operation(tags=("public", "staff"), json=StaffCodeBody, ok=StaffSessionOut, errors=(401, 403, 429, 503))
def login(json: StaffCodeBody):
    """Staff login with a staff-app wx.login() code; 403 staff_not_bound"""
    token, expires_in, seat = staff_service.login(json.code)
    return _session(token, expires_in, seat)


@staff.post("/auth/bind")
@operation(tags=("public", "staff"), json=BindBody, ok=StaffSessionOut, errors=(401, 403, 404, 409, 429, 503))
def bind(json: BindBody):
    """Bind the staff openid to the seat of a one-time invite; 404 invite_not_found, 409 invite_used, invite_expired,
    staff_already_bound, 403 seat_disabled"""
    token, expires_in, seat = staff_service.bind(json.code, json.invite_code)
    return _session(token, expires_in, seat)


@staff.post("/auth/logout")
@staff_required
@operation(tags=ACCOUNT, ok=None, status=204, authenticated=True)
def logout():
    """Revoke this staff token (204); the next request with it is 401"""
    staff_service.logout(bearer_token())
    return "", 204


@staff.post("/invites")
@manager_required
@operation(tags=ACCOUNT, json=InviteBody, ok=InviteOut, status=201, authenticated=True, errors=(403, 404, 409))
def create_invite(json: InviteBody):
    """Manager: a one-time invite for a seat of their store (a new seat without seat_id); 409 seat_disabled"""
    manager = current_seat()
    if json.seat_id is not None:
        seat = db.session.get(StaffSeat, json.seat_id)
        if seat is None or seat.store_id != manager.store_id:
            raise NotFound(f"Staff seat {json.seat_id} does not exist at this store.")
    else:
        seat = staff_service.create_seat(manager.store_id, json.role or "clerk", json.name or "")
    code, invite = staff_service.create_invite(seat, f"staff:{manager.id}")
    return jsonify(seat=seat_json(seat), invite_code=code, expires_at=iso(invite.expires_at)), 201
