"""Consumer login through WeChat's code2session, server-side sessions, and the bound phone number."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, inspect, select
from sqlalchemy.exc import IntegrityError

from app import token_cache, wechat
from app.attached import attached, load_into
from app.errors import ApiError, Forbidden, InvalidRequest, RateLimited, Unauthenticated, UpstreamUnavailable
from app.extensions import db
from app.models import Customer, CustomerSession, utcnow
from app.wechat.port import WeChatRateLimited, WeChatRefused, WeChatUnavailable

# WeChat's answers that mean "this code is no good": invalid (40029) or already used (40163).
INVALID_CODE_ERRCODES = {40029, 40163}
# code2session's documented errcodes (developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session):
# 45011 "API 调用太频繁，请稍候再试" (a new code will not help, waiting will) and 40226 "高风险等级用户，小程序登录拦截"
# (WeChat blocks this user's login; logging in again will not help).
RATE_LIMITED = 45011
RISKY_USER = 40226
RETRY_AFTER_S = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def exchange_code(client_name: str, code: str) -> dict:
    """code2session for one of the mini-programs; a bad code is 401, a WeChat outage 503."""
    try:
        session = wechat.api(client_name).code_to_session(code)
    except WeChatRateLimited as exc:
        raise RateLimited("WeChat is limiting logins right now; wait a minute and try again.",
                          RETRY_AFTER_S) from exc
    except WeChatRefused as exc:
        if exc.errcode == RISKY_USER:
            raise Forbidden("WeChat has blocked this account from logging in (risk control); the user must resolve "
                            "it with WeChat.", {"errcode": exc.errcode}, code="login_blocked_by_wechat") from exc
        if exc.errcode in INVALID_CODE_ERRCODES:
            raise ApiError("The login code is invalid or already used; call wx.login() again.",
                           {"errcode": exc.errcode}, code="invalid_login_code", status=401) from exc
        raise UpstreamUnavailable("WeChat login is not available right now; please try again.",
                                  {"errcode": exc.errcode}) from exc
    except WeChatUnavailable as exc:
        raise UpstreamUnavailable("WeChat login is not available right now; please try again.") from exc
    return {"openid": session.openid, "session_key": session.session_key, "unionid": session.unionid}


def login(code: str) -> tuple[str, int, Customer]:
    """Returns (token, expires_in, customer). WeChat's session_key is dropped here: nothing needs it."""
    from app.followers.service import link_customer

    result = exchange_code("miniprogram", code)
    customer = _upsert_customer(result["openid"], result.get("unionid"))
    link_customer(customer)  # a follower of the official account who is this person, whoever came first
    ttl = current_app.config["LOGIN_TOKEN_TTL_S"]
    token = secrets.token_urlsafe(32)
    db.session.add(CustomerSession(token_hash=token_hash(token), customer_id=customer.id,
                                   expires_at=utcnow() + timedelta(seconds=ttl)))
    # Expired sessions of this customer are swept on each login, so the table does not grow without bound.
    db.session.execute(delete(CustomerSession).where(CustomerSession.customer_id == customer.id,
                                                     CustomerSession.expires_at < utcnow()))
    db.session.flush()
    return token, ttl, customer


def _upsert_customer(openid: str, unionid: str | None) -> Customer:
    customer = db.session.scalar(select(Customer).where(Customer.openid == openid))
    if customer is None:
        try:
            with db.session.begin_nested():
                customer = Customer(openid=openid, unionid=unionid)
                db.session.add(customer)
        except IntegrityError:  # the same person logging in twice at once: the other request created the row
            customer = db.session.scalar(select(Customer).where(Customer.openid == openid))
    if unionid and customer.unionid != unionid:
        customer.unionid = unionid
    db.session.flush()
    return customer


def customer_for_token(token: str, now: datetime | None = None) -> Customer:
    """The token's customer. With Redis, from app/token_cache.py for up to its TTL (no statement: the customer is
    attached by id, its columns load if a view reads them); otherwise one query, the session and its customer
    joined, expiry checked in SQL."""
    hashed = token_hash(token)
    customer_id = token_cache.lookup("customer", hashed) if now is None else None
    if customer_id is not None:
        return attached(Customer, customer_id)
    row = db.session.execute(
        select(Customer, CustomerSession.expires_at).join(CustomerSession, CustomerSession.customer_id == Customer.id)
        .where(CustomerSession.token_hash == hashed, CustomerSession.expires_at > (now or utcnow()))).first()
    if row is None:
        raise Unauthenticated("The token is invalid or has expired; log in again.")
    customer, expires_at = row
    token_cache.remember("customer", hashed, customer.id, expires_at)
    return customer


# What the customer's own account answer shows of the row (miniprogram_api/render.py customer_json), as a Core
# statement built once (app/attached.py): a customer attached from the token cache has only its id loaded.
_customers = Customer.__table__.c
_PROFILE_COLUMNS = ("phone", "created_at")
_PROFILE = select(*(_customers[name] for name in _PROFILE_COLUMNS)).where(_customers.id == bindparam("customer_id"))


def with_profile(customer: Customer) -> Customer:
    """The customer with its profile's columns loaded: by one lean statement when any is unloaded (attached from the
    token cache), instead of the ORM's lazy load of the whole row."""
    if not inspect(customer).unloaded.intersection(_PROFILE_COLUMNS):
        return customer
    row = db.session.execute(_PROFILE, {"customer_id": customer.id}).first()
    if row is None:  # deleted while its token was cached (app/token_cache.py TTL_S): as a token that is gone
        raise Unauthenticated("The token is invalid or has expired; log in again.")
    load_into(customer, dict(row._mapping))
    return customer


def logout(token: str) -> None:
    """Revokes the token: the token cache is told first (app/token_cache.py), then its session row is deleted, so
    the next request with it is 401, on any worker. Flushes."""
    hashed = token_hash(token)
    token_cache.revoke("customer", [hashed])
    db.session.execute(delete(CustomerSession).where(CustomerSession.token_hash == hashed))
    db.session.flush()


def bind_phone(customer: Customer, code: str) -> Customer:
    try:
        phone = wechat.api("miniprogram").phone_number(code)
    except WeChatRateLimited as exc:
        raise RateLimited("WeChat is limiting requests right now; wait a minute and try again.",
                          RETRY_AFTER_S) from exc
    except WeChatRefused as exc:
        if exc.errcode in INVALID_CODE_ERRCODES:
            raise InvalidRequest("The phone number code is invalid or already used.", {"errcode": exc.errcode},
                                 code="invalid_phone_code") from exc
        raise UpstreamUnavailable("WeChat is not available right now; please try again.",
                                  {"errcode": exc.errcode}) from exc
    except WeChatUnavailable as exc:
        raise UpstreamUnavailable("WeChat is not available right now; please try again.") from exc
    customer.phone = phone
    db.session.flush()
    return customer


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
