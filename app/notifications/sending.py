"""Sending order notifications, each at most once per (order, kind, channel).

A NotificationLog row is inserted and committed before WeChat is called: a retried or duplicated job finds the row
and does not send again what was sent. Only a row left `failed` by a transient error (-1, 45009, 45011, a network
error) is claimed again by the retry. A mini-program subscribe message is sent only against a grant the customer
gave (`app/notifications/grants.py`): without one the row is `no_grant` and WeChat is not called; 43101 clears the
grants and is `refused`; 47003 means the template's keyword mapping does not fit the template (a configuration
error, logged with the template) and is `error`. The job raises after a transient failure so RQ retries it.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app import jobs, wechat
from app.extensions import db
from app.followers.service import subscribed_follower_of
from app.models import Customer, NotificationLog, NotificationStatus, Order, utcnow
from app.notifications import grants
from app.notifications.content import fill_template, notification_values, order_page
from app.wechat.port import NoGrant, WeChatRefused, WeChatUnavailable
from app.uow import commit_before_calling_wechat, item_unit, read_again_after_losing_a_race

log = logging.getLogger(__name__)
KINDS = ("paid", "ready", "picked_up", "refunded", "late")
RETRIES_S = (10, 60, 300)
BAD_TEMPLATE_DATA = 47003
S = NotificationStatus
NO_GRANT = "no_grant"  # the customer gave no grant for the template: WeChat was not called


class NotificationRetry(Exception):
    """A channel failed transiently; raised so the job is retried (the channels already sent are not resent)."""


def enqueue_order_notification(order: Order, kind: str) -> None:
    """Send the `kind` notification of `order` after the current transaction commits."""
    job = order_notification_job(order, kind)
    jobs.enqueue(job.func, *job.args, job_id=job.job_id, retries=job.retries)


def order_notification_job(order: Order, kind: str) -> jobs.Job:
    """The job enqueue_order_notification enqueues, for jobs.enqueue_all with others."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {KINDS}")
    return jobs.Job(send_order_notification, (order.id, kind), f"notify-{order.id}-{kind}", RETRIES_S)


@jobs.job
def send_order_notification(order_id: int, kind: str) -> dict[str, str]:
    """Job: returns {channel: status} for the channels that apply; raises NotificationRetry after a transient
    failure of any channel."""
    order = db.session.get(Order, order_id)
    if order is None or kind not in KINDS:
        return {}
    customer = db.session.get(Customer, order.customer_id)
    values, page = notification_values(order, kind), order_page(order)
    config = current_app.config
    templates = config.get("NOTIFICATION_TEMPLATE_MAP") or {}
    sends: list[tuple[str, str, Callable[[], str], tuple[int, str] | None, str]] = []
    subscribe = templates.get(f"order_{kind}")
    if subscribe is not None:
        openid, data = customer.openid, fill_template(subscribe.fields, values)
        sends.append(("subscribe", openid, lambda: wechat.api("miniprogram").send_subscribe_message(
            openid, subscribe.template_id, data, page=page), (customer.id, subscribe.template_id),
            subscribe.template_id))
    follower = subscribed_follower_of(customer)
    oa = templates.get("oa_order_status")
    if follower is not None and oa is not None:
        follower_openid, oa_data = follower.openid, fill_template(oa.fields, values)
        jump = {"appid": config["MINIPROGRAM_APPID"], "pagepath": page}
        sends.append(("template", follower_openid, lambda: wechat.api("official_account").send_template_message(
            follower_openid, oa.template_id, oa_data, miniprogram=jump), None, oa.template_id))
    commit_before_calling_wechat()
    results = {}
    for channel, recipient, send, grant, template_id in sends:
        # Each channel's outcome is committed before the next channel is claimed and called.
        with item_unit(f"notification {order_id}/{kind}/{channel}"):
            results[channel] = _send_once(order_id, kind, channel, recipient, send, grant, template_id)
    if S.FAILED in results.values():
        raise NotificationRetry(f"order {order_id} {kind}: {results}")
    return results


def _send_once(order_id: int, kind: str, channel: str, recipient: str, send: Callable[[], str],
               grant: tuple[int, str] | None, template_id: str) -> str:
    if not _claim(order_id, kind, channel, recipient):
        return "already_done"
    if grant is not None:
        if not grants.spend(*grant):
            return _finish(order_id, kind, channel, NO_GRANT)
        commit_before_calling_wechat()  # the grant is spent, whatever WeChat answers
    try:
        msgid = send()
    except NoGrant as exc:
        if grant is not None:
            grants.clear(*grant)
        log.info("notification %s/%s/%s: 43101, the customer holds no grant for %s", order_id, kind, channel,
                 template_id)
        return _finish(order_id, kind, channel, S.REFUSED, errcode=exc.errcode)
    except WeChatRefused as exc:
        if exc.errcode == BAD_TEMPLATE_DATA:
            log.error("notification %s/%s/%s: 47003, the keyword mapping of template %s does not fit the template "
                      "(NOTIFICATION_TEMPLATES): %s", order_id, kind, channel, template_id, exc.errmsg)
        else:
            log.warning("notification %s/%s/%s: errcode %s", order_id, kind, channel, exc.errcode)
        return _finish(order_id, kind, channel, S.ERROR, errcode=exc.errcode)
    except WeChatUnavailable as exc:
        if grant is not None:
            grants.give_back(*grant)
        log.warning("notification %s/%s/%s: %s", order_id, kind, channel, exc)
        return _finish(order_id, kind, channel, S.FAILED, errcode=exc.errcode)
    return _finish(order_id, kind, channel, S.SENT, msgid=msgid or None)


def _claim(order_id: int, kind: str, channel: str, recipient: str) -> bool:
    """Insert the log row, or take back one a transient failure left; False when it was sent or settled."""
    try:
        db.session.add(NotificationLog(order_id=order_id, kind=kind, channel=channel, recipient=recipient))
        commit_before_calling_wechat()  # the claim: a duplicated job finds the row and does not send again
        return True
    except IntegrityError:
        read_again_after_losing_a_race()  # an earlier or concurrent run holds the row: see what it left
    result = db.session.execute(
        update(NotificationLog)
        .where(NotificationLog.order_id == order_id, NotificationLog.kind == kind,
               NotificationLog.channel == channel, NotificationLog.status == S.FAILED)
        .values(status=S.SENDING, recipient=recipient, attempts=NotificationLog.attempts + 1, updated_at=utcnow()))
    commit_before_calling_wechat()
    return result.rowcount == 1


def _finish(order_id: int, kind: str, channel: str, status: str, errcode: int | None = None,
            msgid: str | None = None) -> str:
    db.session.execute(
        update(NotificationLog)
        .where(NotificationLog.order_id == order_id, NotificationLog.kind == kind, NotificationLog.channel == channel)
        .values(status=status, errcode=errcode, msgid=msgid, updated_at=utcnow()))
    return status
