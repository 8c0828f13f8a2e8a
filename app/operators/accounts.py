"""Console accounts: creation, passwords (werkzeug scrypt), login with rate limits, and which stores a user may see.

Login failures are limited per username and per client address (sliding windows in app/ratelimit.py, shared through
Redis), so neither guessing one user's password nor trying one password on many users gets far. A slot is taken
before the check and given back on success, so a burst of simultaneous guesses cannot slip past the count.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.extensions import db
from app.models import CONSOLE_ROLES, ConsoleUser, ConsoleUserStore, Store, utcnow
from app.models.types import MAX_INT
from app.operators.audit import record
from app.ratelimit import Limit, give_back, take

MIN_PASSWORD_LENGTH = 10
# werkzeug's scrypt (N=2^15, r=8, p=1): memory-hard, the scheme stored in the hash itself.
HASH_METHOD = "scrypt"
# A hash to check against when the username does not exist, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=HASH_METHOD)


def login_limits(username: str, address: str) -> tuple[Limit, ...]:
    """5 failures per username in 15 minutes; 20 per client address in 15 minutes."""
    return (Limit(f"console:user:{username.lower()[:64]}", 5, 900),
            Limit(f"console:addr:{address}", 20, 900))


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def check_new_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。", {"fields": {"password": "too_short"}})
    if password.lower() == username.lower():
        raise InvalidRequest("密码不能与用户名相同。", {"fields": {"password": "same_as_username"}})


def create_user(username: str, role: str, store_ids: list[int] | None = None, actor: ConsoleUser | None = None,
                password: str | None = None, must_change: bool = True) -> tuple[ConsoleUser, str]:
    """A console user with a one-time password (returned once, in clear) unless one is given. Flushes."""
    username = username.strip()
    if not username or len(username) > 64:
        raise InvalidRequest("用户名为 1-64 个字符。", {"fields": {"username": "length"}})
    if role not in CONSOLE_ROLES:
        raise InvalidRequest(f"role must be one of {CONSOLE_ROLES}", {"fields": {"role": "unknown"}})
    if db.session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise Conflict("该用户名已存在。", {"username": username}, code="username_taken")
    secret = password or one_time_password()
    user = ConsoleUser(username=username, password_hash=hash_password(secret), role=role,
                       must_change_password=must_change, active=True, session_epoch=0)
    db.session.add(user)
    db.session.flush()
    for store_id in sorted(set(store_ids or [])):
        # Past the INTEGER column's range the lookup itself fails (SQLite: OverflowError); such a store does not exist.
        if not 1 <= store_id <= MAX_INT or db.session.get(Store, store_id) is None:
            raise NotFound(f"Store {store_id} does not exist.")
        db.session.add(ConsoleUserStore(user_id=user.id, store_id=store_id))
    db.session.flush()
    record(actor, "user.create", f"console_user:{user.id}", None,
           {"username": username, "role": role, "stores": sorted(set(store_ids or []))})
    return user, secret


def authenticate(username: str, password: str, address: str) -> ConsoleUser:
    """The user, or Unauthenticated (one message whatever was wrong), or RateLimited. Flushes (last_login_at and
    the audit row); the caller commits either way so a failure is recorded."""
    limits = login_limits(username, address)
    ticket = take(limits)  # raises RateLimited (429, Retry-After) when either window is full
    user = db.session.scalar(select(ConsoleUser).where(ConsoleUser.username == username.strip()))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        record(user, "login.failed", f"username:{username[:64]}", None, {"address": address})
        raise Unauthenticated("用户名或密码不正确。", code="login_failed")
    give_back(limits, ticket)
    user.last_login_at = utcnow()
    record(user, "login", f"console_user:{user.id}", None, {"address": address})
    db.session.flush()
    return user


def change_password(user: ConsoleUser, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise InvalidRequest("当前密码不正确。", {"fields": {"current": "wrong"}}, code="wrong_password")
    check_new_password(new, user.username)
    if check_password_hash(user.password_hash, new):
        raise InvalidRequest("新密码不能与当前密码相同。", {"fields": {"password": "unchanged"}})
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_epoch += 1  # other browsers signed in as this user are signed out
    record(user, "user.password", f"console_user:{user.id}", None, None)
    db.session.flush()


def user_for_session(user_id: int, epoch: int) -> ConsoleUser | None:
    user = db.session.get(ConsoleUser, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


# --- scoping ----------------------------------------------------------------------------------------------------
def store_ids_of(user: ConsoleUser) -> set[int] | None:
    """The stores the user may see: None means every store (owners, and viewers linked to none)."""
    if user.role == "owner":
        return None
    linked = set(db.session.scalars(select(ConsoleUserStore.store_id).where(ConsoleUserStore.user_id == user.id)))
    if user.role == "viewer" and not linked:
        return None
    return linked


def visible_stores(user: ConsoleUser) -> list[Store]:
    query = select(Store).order_by(Store.id)
    ids = store_ids_of(user)
    if ids is not None:
        query = query.where(Store.id.in_(ids or [-1]))
    return list(db.session.scalars(query))


def require_store(user: ConsoleUser, store_id: int, write: bool = False) -> Store:
    """The store, if the user may see it (and change it, with `write`); else Forbidden."""
    store = db.session.get(Store, store_id)
    if store is None:
        raise NotFound(f"门店 {store_id} 不存在。")
    ids = store_ids_of(user)
    if ids is not None and store_id not in ids:
        raise Forbidden("你无权访问这个门店。", {"store_id": store_id}, code="store_forbidden")
    if write:
        require_writer(user)
    return store


def require_writer(user: ConsoleUser) -> None:
    if user.role == "viewer":
        raise Forbidden("只读账号不能修改。", code="read_only")


def require_owner(user: ConsoleUser) -> None:
    if user.role != "owner":
        raise Forbidden("只有店主可以这样做。", code="owner_only")


# --- the development demo owner ---------------------------------------------------------------------------------
DEMO_OWNER = ("demo", "demo-owner-pass")  # development demo data only: never seeded in production or testing


def seed_demo_owner(environment: str) -> bool:
    """In development, an owner with a known password, so a newcomer signs in to the console at once."""
    if environment != "development":
        return False
    if db.session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == DEMO_OWNER[0])) is not None:
        return False
    create_user(DEMO_OWNER[0], "owner", password=DEMO_OWNER[1], must_change=False)
    return True


def demo_owner_login(environment: str) -> tuple[str, str] | None:
    """The demo owner's login while it still has the demo password (development only), for `micromall serve`."""
    if environment != "development":
        return None
    user = db.session.scalar(select(ConsoleUser).where(ConsoleUser.username == DEMO_OWNER[0]))
    if user is None or not check_password_hash(user.password_hash, DEMO_OWNER[1]):
        return None
    return DEMO_OWNER


def disable_user(user: ConsoleUser, actor: ConsoleUser) -> None:
    """Signs the user out everywhere at once (the session epoch moves) and keeps them out. Flushes."""
    if user.id == actor.id:
        raise Conflict("不能停用自己的账号。", code="cannot_disable_self")
    user.active = False
    user.session_epoch += 1
    record(actor, "user.disable", f"console_user:{user.id}", {"active": True}, {"active": False})
    db.session.flush()
