"""Sending order notifications, each at most once per (order, kind, channel).

A NotificationLog row is inserted and committed before WeChat is called: a retried or duplicated job finds the row
and does not send again what was sent. Only a row left `failed` by a transient error (-1, 45009, 45011, a network
error) is claimed again by the retry; 43101 (the customer has no subscription for the template) is recorded as
`refused` and never retried. The job raises after a transient failure so that RQ's Retry runs it again.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import current_app
from requests import RequestException
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException

from app import jobs, wechat
from app.extensions import db
from app.followers.service import subscribed_follower_of
from app.models import Customer, NotificationLog, NotificationStatus, Order, utcnow
from app.notifications.content import notification_data, order_page

log = logging.getLogger(__name__)
KINDS = ("paid", "ready", "picked_up", "refunded", "late")
RETRIES_S = (10, 60, 300)
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})
NO_SUBSCRIPTION = 43101
S = NotificationStatus


class NotificationRetry(Exception):
    """A channel failed transiently; raised so the job is retried (the channels already sent are not resent)."""


def enqueue_order_notification(order: Order, kind: str) -> None:
    """Send the `kind` notification of `order` after the current transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {KINDS}")
    jobs.enqueue("app.notifications.sending:send_order_notification", order.id, kind,
                 job_id=f"notify-{order.id}-{kind}", retries=RETRIES_S)


def send_order_notification(order_id: int, kind: str) -> dict[str, str]:
    """Job: returns {channel: status} for the channels that apply; raises NotificationRetry after a transient
    failure of any channel."""
    order = db.session.get(Order, order_id)
    if order is None or kind not in KINDS:
        return {}
    customer = db.session.get(Customer, order.customer_id)
    data, page = notification_data(order, kind), order_page(order)
    config = current_app.config
    sends: list[tuple[str, str, Callable[[], dict[str, Any]]]] = []
    subscribe_template = config.get(f"SUBSCRIBE_TEMPLATE_ORDER_{kind.upper()}")
    if subscribe_template:
        openid = customer.openid
        sends.append(("subscribe", openid, lambda: wechat.client("miniprogram").wxa.send_subscribe_message(
            openid, subscribe_template, data, page=page)))
    follower = subscribed_follower_of(customer)
    oa_template = config.get("OFFICIAL_ACCOUNT_TEMPLATE_ORDER_STATUS")
    if follower is not None and oa_template:
        follower_openid = follower.openid
        jump = {"appid": config["MINIPROGRAM_APPID"], "pagepath": page}
        sends.append(("template", follower_openid, lambda: wechat.client("official_account").message.send_template(
            follower_openid, oa_template, data, mini_program=jump)))
    db.session.commit()  # nothing of ours is held open while WeChat is called
    results = {channel: _send_once(order_id, kind, channel, recipient, send)
               for channel, recipient, send in sends}
    if S.FAILED in results.values():
        raise NotificationRetry(f"order {order_id} {kind}: {results}")
    return results


def _send_once(order_id: int, kind: str, channel: str, recipient: str,
               send: Callable[[], dict[str, Any]]) -> str:
    if not _claim(order_id, kind, channel, recipient):
        return "already_done"
    try:
        result = send()
    except WeChatClientException as exc:
        errcode = exc.errcode
        if errcode == NO_SUBSCRIPTION:
            status = S.REFUSED
        elif errcode is None or errcode in TRANSIENT_ERRCODES:  # None: an HTTP error status from WeChat
            status = S.FAILED
        else:
            status = S.ERROR
        log.warning("notification %s/%s/%s: errcode %s", order_id, kind, channel, errcode)
        return _finish(order_id, kind, channel, status, errcode=errcode)
    except RequestException as exc:
        log.warning("notification %s/%s/%s: %s", order_id, kind, channel, exc)
        return _finish(order_id, kind, channel, S.FAILED)
    return _finish(order_id, kind, channel, S.SENT, msgid=str(result.get("msgid") or "") or None)


def _claim(order_id: int, kind: str, channel: str, recipient: str) -> bool:
    """Insert the log row, or take back one a transient failure left; False when it was sent or settled."""
    try:
        db.session.add(NotificationLog(order_id=order_id, kind=kind, channel=channel, recipient=recipient))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    result = db.session.execute(
        update(NotificationLog)
        .where(NotificationLog.order_id == order_id, NotificationLog.kind == kind,
               NotificationLog.channel == channel, NotificationLog.status == S.FAILED)
        .values(status=S.SENDING, recipient=recipient, attempts=NotificationLog.attempts + 1, updated_at=utcnow()))
    db.session.commit()
    return result.rowcount == 1


def _finish(order_id: int, kind: str, channel: str, status: str, errcode: int | None = None,
            msgid: str | None = None) -> str:
    db.session.execute(
        update(NotificationLog)
        .where(NotificationLog.order_id == order_id, NotificationLog.kind == kind, NotificationLog.channel == channel)
        .values(status=status, errcode=errcode, msgid=msgid, updated_at=utcnow()))
    db.session.commit()
    return status
