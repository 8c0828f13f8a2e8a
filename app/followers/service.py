"""Followers: subscribe and unsubscribe, attribution to a store, last location, and the link to the Customer with
the same unionid, made from whichever side learns it second (`link_follower` here, `link_customer` at login)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Update, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Customer, Follower, Store, utcnow

STORE_SCENE = re.compile(r"^store_(\d{1,9})$")


def store_scene(store_id: int) -> str:
    """The scene string of a store's permanent QR code (`qrscene_<scene>` when it makes someone follow)."""
    return f"store_{store_id}"


def store_id_from_scene(scene: str | None) -> int | None:
    """The active store a QR scene names, or None for any other scene."""
    match = STORE_SCENE.match(scene or "")
    if not match:
        return None
    store = db.session.get(Store, int(match.group(1)))
    return store.id if store is not None and store.active else None


def follower_by_openid(openid: str) -> Follower:
    """The follower row, created on first sight: people who followed before the callback existed write too."""
    follower = db.session.scalar(select(Follower).where(Follower.openid == openid))
    if follower is None:
        try:
            with db.session.begin_nested():
                follower = Follower(openid=openid, subscribed=True)
                db.session.add(follower)
        except IntegrityError:  # WeChat's retry or a second message raced us to the insert
            follower = db.session.scalar(select(Follower).where(Follower.openid == openid))
    return follower


def subscribe(openid: str, store_id: int | None) -> Follower:
    follower = follower_by_openid(openid)
    follower.subscribed = True
    follower.subscribed_at = utcnow()
    follower.unsubscribed_at = None
    if store_id is not None and follower.source_store_id is None:
        follower.source_store_id = store_id
    db.session.flush()
    return follower


def unsubscribe(openid: str) -> Follower:
    follower = follower_by_openid(openid)
    follower.subscribed = False
    follower.unsubscribed_at = utcnow()
    db.session.flush()
    return follower


def _located_statement() -> Update:
    # On the table, not the entity: the ORM's bulk UPDATE (its key resolution, its synchronizing of the session's
    # objects, none of which the session holds here) cost more CPU than the statement itself. Built once: a
    # statement's cache key is kept on it, where building it for each message cost about 60 µs.
    table = Follower.__table__
    c = table.c

    def param(name: str, column: Any) -> Any:
        return bindparam(name, type_=column.type)

    at = param("at", c.last_located_at)
    return (update(table).where(c.openid == param("who", c.openid))
            .values(last_latitude=param("lat", c.last_latitude), last_longitude=param("lng", c.last_longitude),
                    last_located_at=at, updated_at=at))


_LOCATED = _located_statement()


def remember_location(who: str | Follower, lat: float, lng: float) -> None:
    """`who`: the follower row already read, or the openid: then one UPDATE by it, no SELECT and no ORM object (a
    location message answers from the catalog cache and needs nothing else of the row: S4 in bench/README.md);
    the row is read, or made, only when the UPDATE found none."""
    if isinstance(who, str):
        found = db.session.execute(  # rowcount is rows matched, not changed, on both databases (FOUND_ROWS)
            _LOCATED, {"who": who, "lat": lat, "lng": lng, "at": utcnow()}).rowcount
        if found:
            return
        who = follower_by_openid(who)
    who.last_latitude, who.last_longitude, who.last_located_at = lat, lng, utcnow()
    db.session.flush()


def link_follower(follower: Follower, unionid: str | None) -> None:
    """Record the follower's unionid (from user/info) and link the Customer who already logged in with it."""
    if not unionid:
        return
    follower.unionid = unionid
    if follower.customer_id is None:
        follower.customer_id = db.session.scalar(
            select(Customer.id).where(Customer.unionid == unionid).order_by(Customer.id).limit(1))
    db.session.flush()


def link_customer(customer: Customer) -> int:
    """Login hook: link the followers who share the customer's unionid (they may have followed first).
    Returns how many follower rows were linked."""
    if not customer.unionid:
        return 0
    result = db.session.execute(
        update(Follower).where(Follower.unionid == customer.unionid, Follower.customer_id.is_(None))
        .values(customer_id=customer.id, updated_at=utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def customer_of(follower: Follower) -> Customer | None:
    if follower.customer_id is not None:
        return db.session.get(Customer, follower.customer_id)
    if follower.unionid:  # the customer logged in without the login hook having linked yet
        customer = db.session.scalar(
            select(Customer).where(Customer.unionid == follower.unionid).order_by(Customer.id).limit(1))
        if customer is not None:
            follower.customer_id = customer.id
        return customer
    return None


def subscribed_follower_of(customer: Customer) -> Follower | None:
    """The follower the customer is, when still following; by link or, before the link is made, by unionid."""
    same_person = [Follower.customer_id == customer.id]
    if customer.unionid:
        same_person.append(Follower.unionid == customer.unionid)
    return db.session.scalar(
        select(Follower).where(or_(*same_person), Follower.subscribed.is_(True)).order_by(Follower.id).limit(1))
