"""WeChat Pay v3 notifications: verified and decrypted here, applied once by the domain.

Answers (WeChat Pay's contract): 204 when taken, first time or repeat; 4xx/5xx with {"code": "FAIL", "message"}
when it must be retried or is rejected. Nothing is changed before the signature is verified.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from app.extensions import db
from app.payments.notifications import (
    REFUND_PREFIX,
    TRANSACTION_PREFIX,
    handle_refund_notification,
    handle_transaction_notification,
)
from app.uow import keep_despite_refusal
from payments.gateway import refund_state_from, transaction_from
from payments.wechatpay_v3 import DecryptError, MalformedMessageError, SignTestProbe, VerificationError

bp = Blueprint("wechatpay", __name__, url_prefix="/payments/wechatpay")
log = logging.getLogger(__name__)


def _fail(status: int, message: str):
    return jsonify(code="FAIL", message=message), status


def _parse():
    """The verified, decrypted notification, or the FAIL answer to give."""
    client = current_app.extensions["wechatpay_client"]()
    try:
        return client.parse_notification(request.headers, request.get_data()), None
    except SignTestProbe:
        return None, _fail(400, "signature test probe refused")
    except VerificationError as exc:
        log.warning("WeChat Pay notification failed verification: %s", type(exc).__name__)
        return None, _fail(401, f"verification failed: {type(exc).__name__}")
    except (MalformedMessageError, DecryptError) as exc:
        log.warning("WeChat Pay notification could not be read: %s", type(exc).__name__)
        return None, _fail(400, f"unreadable notification: {type(exc).__name__}")


def _receive(handle, read_resource, kind_prefix: str):
    """Verify and decrypt, refuse another endpoint's kind of event before anything is recorded, hand the resource
    to the domain, answer as WeChat Pay expects."""
    notification, failure = _parse()
    if failure:
        return failure
    if not notification.event_type.startswith(kind_prefix):
        log.warning("WeChat Pay notification of type %s refused at %s", notification.event_type[:40], request.path)
        return _fail(400, f"{notification.event_type[:40]} notifications are not taken at this endpoint")
    try:
        resource = read_resource(notification.resource)
    except (AttributeError, KeyError, TypeError, ValueError):  # a signed resource of an unexpected shape
        return _fail(400, "unreadable notification resource")
    answer = handle(notification.id, notification.event_type, resource)
    if answer.accepted:
        return "", 204  # the request commits the record with what it applied
    keep_despite_refusal()  # the record of a rejection too: a repeat is answered alike
    return _fail(400, answer.outcome)


@bp.errorhandler(Exception)
def _any_error(exc: Exception):
    """WeChat Pay reads {"code": "FAIL", "message"} and retries on any non-2xx; never the API's envelope here."""
    from werkzeug.exceptions import HTTPException

    from app.errors import drop_connections, infrastructure_failure

    if isinstance(exc, HTTPException):
        return _fail(exc.code or 500, exc.description or exc.name)
    backend = infrastructure_failure(exc)
    if backend is not None:
        if backend == "database":
            drop_connections()
        else:
            db.session.rollback()
        code = (getattr(getattr(exc, "orig", None), "args", None) or ("",))[0]  # e.g. 1213 deadlock, 2013 lost
        log.warning("WeChat Pay notification not taken, %s unavailable: %s %s", backend, type(exc).__name__, code)
        response, status = _fail(503, f"{backend} temporarily unavailable")
        response.headers["Retry-After"] = "5"
        return response, status
    db.session.rollback()
    log.exception("WeChat Pay notification failed")
    return _fail(500, "internal error")


@bp.post("/notify")
def payment_notify():
    return _receive(handle_transaction_notification, transaction_from, TRANSACTION_PREFIX)


@bp.post("/refund-notify")
def refund_notify():
    return _receive(handle_refund_notification, refund_state_from, REFUND_PREFIX)
