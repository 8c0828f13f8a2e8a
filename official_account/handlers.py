"""Messages and events to answers. Every handler answers from the database in milliseconds; what needs WeChat
first (the unionid of a follower who asks for orders) answers `success` at once and replies later from a job."""
from __future__ import annotations

from typing import Any, Callable

from flask import g
from wechatpy.messages import BaseMessage

from app import jobs
from app.errors import InvalidRequest
from app.extensions import db
from app.followers import service as followers
from app.followers.rules import match_rule, normalise
from app.followers.linking import issue_link_token
from app.followers.unionid import link_quickly_or_later
from app.models import Customer, Follower, Store
from app.operators import scan_login
from official_account import answers
from official_account.answers import Answer

# Built-in answers, matched on the whole (case-folded) text before the operator's keyword rules, so a broad
# "contains" rule cannot hide them.
KEYWORDS = {"订单": "orders", "我的订单": "orders", "order": "orders", "orders": "orders",
            "取货码": "pickup", "取货": "pickup", "pickup": "pickup",
            "门店": "stores", "找门店": "stores", "store": "stores", "stores": "stores",
            "绑定": "link", "关联": "link", "link": "link"}
# The CLICK keys of official_account/menu.json.
MENU_KEYS = {"ORDERS": "orders", "PICKUP": "pickup", "STORES": "stores", "LINK": "link"}
LATER_RETRIES_S = (5, 30)


def answer_for(topic: str, customer: Customer | None, show_codes: bool = True) -> Answer:
    """`show_codes`: pickup codes may be in the answer. False for a passive reply to a plaintext message, which
    anyone holding a signed query string could have sent (issue 11); the answer then links to the mini-program."""
    if topic == "stores":
        return answers.stores_help()
    if customer is None:
        return answers.not_linked()
    return answers.recent_orders(customer) if topic == "orders" else answers.pickup(customer, show_codes)


def _topic(topic: str, follower: Follower, message: BaseMessage) -> Answer | None:
    if topic == "stores":  # the same for everyone: no follower needed
        return answers.stores_help()
    if topic == "link":
        if followers.customer_of(follower) is not None:
            return answers.already_linked()
        return answers.link_invitation(issue_link_token(follower))
    customer = followers.customer_of(follower) if topic != "stores" else None
    if topic != "stores" and customer is None and follower.unionid is None:
        # Who this is needs user/info first: too slow for the 5 s reply, so a job answers through custom/send.
        from official_account.outbound import answer_later  # it imports this module

        jobs.enqueue(answer_later, follower.id, topic,
                     job_id=f"oa-answer-{follower.id}-{message.time}-{topic}", retries=LATER_RETRIES_S)
        return None
    return answer_for(topic, customer, show_codes=bool(g.get("oa_safe_mode")))


def _coordinate(read: Callable[[], Any], limit: float) -> float:
    try:
        value = float(read())
    except (TypeError, ValueError):
        raise InvalidRequest("The location is not a number.") from None
    if not -limit <= value <= limit:
        raise InvalidRequest("The location is out of range.")
    return value


def on_text(message: BaseMessage) -> Answer | None:
    """The follower row is read (or made) only for the topics about this person (orders, pickup, link): the stores
    help, a keyword rule and the fallback are the same for everyone, so they answer without the database's
    follower lookup (S4 in bench/README.md)."""
    text = message.content or ""
    topic = KEYWORDS.get(normalise(text))
    if topic == "stores":
        return answers.stores_help()
    if topic:
        return _topic(topic, followers.follower_by_openid(message.source), message)
    rule = match_rule(text)
    return answers.from_rule(rule) if rule is not None else answers.fallback()


def on_location(message: BaseMessage) -> Answer:
    lat = _coordinate(lambda: message.location_x, 90)
    lng = _coordinate(lambda: message.location_y, 180)
    followers.remember_location(message.source, lat, lng)  # one UPDATE (the row is made when there is none)
    return answers.nearest_open(lat, lng)


def on_subscribe(message: BaseMessage) -> Answer:
    """subscribe and subscribe_scan: a QR scene `store_<id>` attributes the follower and adds the store's card."""
    if scan_login.is_login_scene(getattr(message, "scene_id", None)):  # the merchant console's scan-to-login
        followers.subscribe(message.source, None)
        return scan_login.confirm_scan(message.scene_id, message.source)
    store_id = followers.store_id_from_scene(getattr(message, "scene_id", None))
    follower = followers.subscribe(message.source, store_id)
    link_quickly_or_later(follower)
    if store_id is None:
        return answers.welcome()
    return answers.welcome() + "\n\n" + answers.store_card(db.session.get(Store, store_id))


def on_event(message: BaseMessage) -> Answer | None:
    event = message.event
    if event in ("subscribe", "subscribe_scan"):
        return on_subscribe(message)
    if event == "unsubscribe":
        followers.unsubscribe(message.source)
        return None
    follower = followers.follower_by_openid(message.source)
    if event == "scan" and scan_login.is_login_scene(message.scene_id):
        return scan_login.confirm_scan(message.scene_id, message.source)
    if event == "scan":
        store_id = followers.store_id_from_scene(message.scene_id)
        return answers.store_card(db.session.get(Store, store_id)) if store_id is not None else None
    if event == "location":  # reported in the background while the chat is open: remembered, not answered
        lat = _coordinate(lambda: message.latitude, 90)
        lng = _coordinate(lambda: message.longitude, 180)
        followers.remember_location(follower, lat, lng)
        return None
    if event == "click":
        topic = MENU_KEYS.get(message.key or "")
        return _topic(topic, follower, message) if topic else answers.fallback()
    return None


def dispatch(message: BaseMessage) -> Answer | None:
    """The answer to send back, or None for `success` (nothing to say now)."""
    if message.type == "unknown":
        # Events wechatpy does not know (subscribe_msg_popup_event, the platform's test pushes, new event kinds):
        # taken with `success` and no text, as WeChat asks of events one does not handle.
        return None
    if message.type == "event":
        return on_event(message)
    if message.type == "text":
        return on_text(message)
    if message.type == "location":
        return on_location(message)
    followers.follower_by_openid(message.source)  # an image, a voice note...: the follower is known from now on
    return answers.fallback()
