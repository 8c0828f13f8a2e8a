"""Staff seats, invites, binding and sessions.

A seat is created first (CLI or a manager) with a one-time invite; the staff mini-program's code2session (its own
appid) gives an openid, which the invite binds to the seat; from then on a login with that openid returns a token.
Tokens and invite codes are stored only as SHA-256. Every token check reads the seat's `active`, so disabling a
seat locks it out on the next request; which seat a token is may come from app/token_cache.py, whose entries every
deletion of a session revokes first.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from app import token_cache
from app.attached import attached
from app.customers.service import exchange_code, token_hash
from app.errors import ApiError, Conflict, Forbidden, NotFound, Unauthenticated
from app.extensions import db
from app.models import STAFF_ROLES, StaffInvite, StaffSeat, StaffSession, Store, utcnow

INVITE_TTL = timedelta(days=7)
# No 0/O or 1/I/L: the code may be read out over the phone or typed from a note.
_INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_INVITE_LENGTH = 16


class StaffNotBound(ApiError):
    status, code = 403, "staff_not_bound"


def normalize_invite(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch not in " -")


def _new_invite_code() -> str:
    code = "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(_INVITE_LENGTH))
    return "-".join(code[i:i + 4] for i in range(0, _INVITE_LENGTH, 4))


def create_seat(store_id: int, role: str = "clerk", name: str = "") -> StaffSeat:
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {STAFF_ROLES}")
    if db.session.get(Store, store_id) is None:
        raise NotFound(f"Store {store_id} does not exist.")
    seat = StaffSeat(store_id=store_id, role=role, name=name, active=True)
    db.session.add(seat)
    db.session.flush()
    return seat


def create_invite(seat: StaffSeat, created_by: str) -> tuple[str, StaffInvite]:
    """A fresh one-time code for the seat (returned once, in clear); older unused invites of the seat die, so only
    the latest code handed out works."""
    if not seat.active:
        raise Conflict("This staff seat is disabled.", {"seat_id": seat.id}, code="seat_disabled")
    now = utcnow()
    db.session.execute(update(StaffInvite).where(StaffInvite.seat_id == seat.id, StaffInvite.used_at.is_(None),
                                                 StaffInvite.expires_at > now).values(expires_at=now)
                       .execution_options(synchronize_session=False))
    code = _new_invite_code()
    invite = StaffInvite(seat_id=seat.id, code_hash=token_hash(normalize_invite(code)), created_by=created_by,
                         created_at=now, expires_at=now + INVITE_TTL)
    db.session.add(invite)
    db.session.flush()
    return code, invite


def disable_seat(seat: StaffSeat) -> None:
    """Locks the seat out at once (every token check reads `active`); its sessions are deleted too."""
    seat.active = False
    seat.disabled_at = utcnow()
    _end_sessions_of(seat)
    db.session.flush()


def _open_session(seat: StaffSeat) -> tuple[str, int]:
    ttl = current_app.config["LOGIN_TOKEN_TTL_S"]
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(StaffSession(token_hash=token_hash(token), seat_id=seat.id, created_at=now,
                                expires_at=now + timedelta(seconds=ttl)))
    db.session.execute(delete(StaffSession).where(StaffSession.seat_id == seat.id, StaffSession.expires_at < now))
    db.session.flush()
    return token, ttl


def login(code: str) -> tuple[str, int, StaffSeat]:
    openid = exchange_code("staff", code)["openid"]
    seat = db.session.scalar(select(StaffSeat).where(StaffSeat.openid == openid))
    if seat is None or not seat.active:
        raise StaffNotBound("This WeChat account is not bound to an active staff seat; bind it with an invite code.")
    token, ttl = _open_session(seat)
    return token, ttl, seat


def bind(code: str, invite_code: str) -> tuple[str, int, StaffSeat]:
    """Spend the invite and bind the caller's staff openid to its seat; returns a session like login."""
    now = utcnow()
    invite = db.session.scalar(select(StaffInvite).where(
        StaffInvite.code_hash == token_hash(normalize_invite(invite_code))))
    if invite is None:
        raise NotFound("This invite code does not exist.", code="invite_not_found")
    if invite.used_at is not None:
        raise Conflict("This invite code has already been used; ask a manager for a new one.", code="invite_used")
    if invite.expires_at <= now:
        raise Conflict("This invite code has expired; ask a manager for a new one.", code="invite_expired")
    seat = db.session.get(StaffSeat, invite.seat_id)
    if seat is None or not seat.active:
        raise Forbidden("The staff seat of this invite is disabled.", code="seat_disabled")
    openid = exchange_code("staff", code)["openid"]
    # Spent by a guarded UPDATE: of two people binding with one code at the same moment, one gets the seat.
    spent = db.session.execute(update(StaffInvite).where(StaffInvite.id == invite.id, StaffInvite.used_at.is_(None))
                               .values(used_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise Conflict("This invite code has already been used; ask a manager for a new one.", code="invite_used")
    _take_openid(openid, seat)
    seat.openid, seat.bound_at = openid, now
    db.session.flush()
    token, ttl = _open_session(seat)
    return token, ttl, seat


def _take_openid(openid: str, seat: StaffSeat) -> None:
    """One openid, one seat. A disabled seat gives the openid up (the person moved on and was invited anew); an
    active one keeps it. A seat that is re-bound (a new phone) loses its old sessions."""
    holder = db.session.scalar(select(StaffSeat).where(StaffSeat.openid == openid))
    if holder is not None and holder.id != seat.id:
        if holder.active:
            raise Conflict("This WeChat account is already bound to another active staff seat.",
                           {"seat_id": holder.id}, code="staff_already_bound")
        holder.openid = None
        db.session.flush()
    if seat.openid is not None and seat.openid != openid:
        _end_sessions_of(seat)


def logout(token: str) -> None:
    """Revokes the token: the token cache is told first (app/token_cache.py), then its session row is deleted.
    Flushes."""
    hashed = token_hash(token)
    token_cache.revoke("staff", [hashed])
    db.session.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
    db.session.flush()


def _end_sessions_of(seat: StaffSeat) -> None:
    """Deletes every session of the seat, their tokens revoked in the token cache first."""
    hashes = db.session.scalars(select(StaffSession.token_hash).where(StaffSession.seat_id == seat.id)).all()
    token_cache.revoke("staff", hashes)
    db.session.execute(delete(StaffSession).where(StaffSession.seat_id == seat.id))


# The check of every staff request, as a Core statement built once (app/attached.py): the seat's row only if it is
# active, read on every request (never cached), so a disabled seat is refused at once; with the columns every staff
# path reads (its store for "only on their own store", its role for the manager's paths, its name for the log and
# "redeemed by"), so none loads the row again. The others (openid, dates) load if a path reads them.
_seats = StaffSeat.__table__.c
_ACTIVE_SEAT = (select(_seats.store_id, _seats.role, _seats.name)
                .where(_seats.id == bindparam("seat_id"), _seats.active.is_(True)))


def seat_for_token(token: str) -> StaffSeat:
    """The token's seat. Which seat a token is comes from app/token_cache.py with Redis (one statement saved); the
    seat itself is read on every request, so a disabled seat is refused at once."""
    hashed = token_hash(token)
    seat_id = token_cache.lookup("staff", hashed)
    if seat_id is None:
        row = db.session.get(StaffSession, hashed)
        if row is None or row.expires_at <= utcnow():
            raise Unauthenticated("The staff token is invalid or has expired; log in again.")
        seat_id = row.seat_id
        token_cache.remember("staff", hashed, seat_id, row.expires_at)
    seat = db.session.execute(_ACTIVE_SEAT, {"seat_id": seat_id}).first()
    if seat is None:  # no such seat, or disabled
        raise Unauthenticated("This staff seat has been disabled; log in again.")
    return attached(StaffSeat, seat_id, store_id=seat.store_id, role=seat.role, name=seat.name, active=True)


def change_role(seat: StaffSeat, role: str) -> tuple[str, str]:
    """clerk <-> manager; (before, after). A disabled seat stays as it is. Flushes."""
    if role not in STAFF_ROLES:
        raise ApiError(f"role must be one of {STAFF_ROLES}", {"fields": {"role": "unknown"}})
    if not seat.active:
        raise Conflict("This staff seat is disabled.", {"seat_id": seat.id}, code="seat_disabled")
    before = seat.role
    seat.role = role
    db.session.flush()
    return before, role
