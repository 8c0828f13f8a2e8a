"""Staff bearer tokens: which seat is calling. The seat is read, with its `active` flag, on every request."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g

from app.errors import Forbidden
from app.models import StaffSeat
from app.staff.service import seat_for_token
from miniprogram_api.auth import bearer_token

staff = Blueprint("staff", __name__, url_prefix="/api/v1/staff")


def staff_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.staff_seat = seat_for_token(bearer_token())
        return view(*args, **kwargs)

    return wrapper


def manager_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.staff_seat = seat_for_token(bearer_token())
        if g.staff_seat.role != "manager":
            raise Forbidden("Only a store manager may do this.")
        return view(*args, **kwargs)

    return wrapper


def current_seat() -> StaffSeat:
    return g.staff_seat
