"""Consumer login through WeChat's code2session, server-side sessions, and the bound phone number."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from requests import RequestException
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException

from app import wechat
from app.errors import ApiError, InvalidRequest, Unauthenticated, UpstreamUnavailable
from app.extensions import db
from app.models import Customer, CustomerSession, utcnow

# WeChat's answers that mean "this code is no good", as opposed to "WeChat is unwell".
INVALID_CODE_ERRCODES = {40029, 40163, 40226, 45011}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def exchange_code(client_name: str, code: str) -> dict:
    """code2session for one of the mini-programs; a bad code is 401, a WeChat outage 503."""
    try:
        return wechat.client(client_name).code_to_session(code)
    except WeChatClientException as exc:
        if exc.errcode in INVALID_CODE_ERRCODES:
            raise ApiError("The login code is invalid or already used; call wx.login() again.",
                           {"errcode": exc.errcode}, code="invalid_login_code", status=401) from exc
        raise UpstreamUnavailable("WeChat login is not available right now; please try again.",
                                  {"errcode": exc.errcode}) from exc
    except RequestException as exc:
        raise UpstreamUnavailable("WeChat login is not available right now; please try again.") from exc


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
    # One query on every authenticated request: the session and its customer joined, expiry checked in SQL.
    customer = db.session.scalar(
        select(Customer).join(CustomerSession, CustomerSession.customer_id == Customer.id)
        .where(CustomerSession.token_hash == token_hash(token), CustomerSession.expires_at > (now or utcnow())))
    if customer is None:
        raise Unauthenticated("The token is invalid or has expired; log in again.")
    return customer


def logout(token: str) -> None:
    """Revokes the token: its session row is deleted, so the next request with it is 401. Flushes."""
    db.session.execute(delete(CustomerSession).where(CustomerSession.token_hash == token_hash(token)))
    db.session.flush()


def bind_phone(customer: Customer, code: str) -> Customer:
    try:
        info = wechat.client("miniprogram").get_phone_number(code)
    except WeChatClientException as exc:
        if exc.errcode in INVALID_CODE_ERRCODES:
            raise InvalidRequest("The phone number code is invalid or already used.", {"errcode": exc.errcode},
                                 code="invalid_phone_code") from exc
        raise UpstreamUnavailable("WeChat is not available right now; please try again.",
                                  {"errcode": exc.errcode}) from exc
    except RequestException as exc:
        raise UpstreamUnavailable("WeChat is not available right now; please try again.") from exc
    customer.phone = info.get("phoneNumber") or info.get("purePhoneNumber")
    db.session.flush()
    return customer


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
