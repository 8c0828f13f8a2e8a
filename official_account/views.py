"""The callback WeChat calls: `GET` to check the URL, `POST` with messages and events (API.md)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request
from wechatpy.replies import create_reply

from app.errors import Forbidden
from app.uow import commit_before_recording_elsewhere
from official_account import dedup, handlers, replay
from official_account.security import open_message, seal_reply, verify_signature

bp = Blueprint("official_account", __name__)


def _xml(body: str) -> Response:
    return Response(body, content_type="application/xml; charset=utf-8")


@bp.route("/wechat/official-account", methods=["GET", "POST"])
def callback() -> Response:
    config, args = current_app.config, request.args  # each read of a proxy costs its lookup: read once
    verify_signature(config["OFFICIAL_ACCOUNT_TOKEN"], args)
    if request.method == "GET":
        return Response(args.get("echostr", ""), content_type="text/plain; charset=utf-8")
    body = request.get_data()
    opened = open_message(body, args, config)
    key = dedup.key_for(opened.fields)
    # One (timestamp, nonce) carries one message, and a retry of a message is answered as the first: both asked in
    # one Redis round trip, once the message is open (its MsgId is the dedup key). Opening first runs no handler:
    # a safe-mode body is only decrypted once its msg_signature verifies.
    admitted, first, earlier_reply = replay.admit_and_claim(
        args.get("timestamp", ""), args.get("nonce", ""), request.query_string, body, key)
    if not admitted:
        raise Forbidden("This timestamp and nonce were already used for another message.")
    # Pickup codes are told only to a message that came encrypted: only WeChat can have sent it (issue 11).
    g.oa_safe_mode = opened.crypto is not None
    if first:
        try:
            answer = handlers.dispatch(opened.message)
            commit_before_recording_elsewhere()  # the reply kept for WeChat's retries says this was done
        except Exception:
            dedup.release(key)  # nothing was done: WeChat's retry may try again
            raise
        reply = create_reply(answer, opened.message, render=True) if answer else ""
        dedup.store(key, reply)
    else:
        # A retry: the same reply once the first arrival has one, `success` while it is still being handled.
        reply = earlier_reply or ""
    if not reply:
        return Response("success", content_type="text/plain; charset=utf-8")
    return _xml(seal_reply(reply, opened, args.get("nonce", "")))
