"""Followers: subscribe and unsubscribe, attribution to a store, last location, and the link to the Customer with
the same unionid, made from whichever side learns it second (`link_follower` here, `link_customer` at login)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam, or_, select, update
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


def _located_statement(dialect: str) -> Any:
    """The follower's last location as one upsert by openid: the row updated, or made (a first message) when there
    is none. Not an UPDATE and then, when it matched nothing, an INSERT: under REPEATABLE READ the UPDATE that found
    no row took a gap lock on the openid index, the INSERTs of two new followers in one gap each waited for the
    other's lock, and MariaDB rolled one of them back (a 503 to WeChat; tests/official_account/test_followers.py).
    On the table, not the entity: the ORM's bulk machinery cost more CPU than the statement. Built once per dialect
    with typed bind parameters: a statement's cache key is kept on it, where building it for each message cost about
    60 µs."""
    table = Follower.__table__
    c = table.c

    def param(name: str, column: Any) -> Any:
        return bindparam(name, type_=column.type)

    at = param("at", c.last_located_at)
    located = {"last_latitude": param("lat", c.last_latitude), "last_longitude": param("lng", c.last_longitude),
               "last_located_at": at, "updated_at": at}
    values = {"openid": param("who", c.openid), "subscribed": True, "created_at": at, **located}
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(values)
        return statement.on_conflict_do_update(index_elements=[c.openid],
                                               set_={name: statement.excluded[name] for name in located})
    from sqlalchemy.dialects.mysql import insert as mysql_insert

    upsert = mysql_insert(table).values(values)
    return upsert.on_duplicate_key_update({name: upsert.inserted[name] for name in located})


_LOCATED: dict[str, Any] = {}


def remember_location(who: str | Follower, lat: float, lng: float) -> None:
    """`who`: the follower row already read, or the openid: then one upsert by it, no SELECT and no ORM object (a
    location message answers from the catalog cache and needs nothing else of the row: S4 in bench/README.md)."""
    if isinstance(who, str):
        # On the session's connection (its transaction, committed with the unit), not session.execute: the ORM's
        # execute layer (events, plugins, result wrapping) and Flask-SQLAlchemy's get_bind cost more CPU than the
        # statement.
        connection = db.session.connection()
        dialect = connection.dialect.name
        if dialect in ("sqlite", "mysql", "mariadb"):
            statement = _LOCATED.get(dialect)
            if statement is None:  # a clause has no truth value: `or` would raise
                statement = _LOCATED.setdefault(dialect, _located_statement(dialect))
            connection.execute(statement, {"who": who, "lat": lat, "lng": lng, "at": utcnow()})
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
