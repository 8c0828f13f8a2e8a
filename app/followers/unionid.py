"""A follower's unionid from the official account's `cgi-bin/user/info`: tried quickly inside the callback (WeChat
waits 5 s for its answer) when an access token is at hand, otherwise filled in by a job that retries.

WeChat gives a unionid only when the official account and the mini-program are bound to one Open Platform account;
without it `user/info` has none and followers are linked by the one-time token of `app/followers/linking.py`."""
from __future__ import annotations

import logging

from app import jobs, wechat
from app.extensions import db
from app.followers.service import link_follower
from app.models import Follower
from app.wechat.port import WeChatError

log = logging.getLogger(__name__)
# (connect, read): a slow WeChat must not eat the 5 seconds the callback has for its reply.
QUICK_TIMEOUT_S = (1.0, 1.5)
RETRIES_S = (10, 60, 300)


def fetch_unionid(openid: str, timeout: tuple[float, float] | None = None) -> str | None:
    info = wechat.api("official_account").user_info(openid, timeout=timeout)
    # WeChat says nothing more (no unionid) about someone who does not follow the account.
    return info.get("unionid") if info.get("subscribe") else None


def link_quickly_or_later(follower: Follower) -> None:
    """In the callback: one short user/info call when the access token is warm (a token fetch could eat the
    5 seconds); otherwise, or on any failure, a job fills the unionid in after the commit."""
    if follower.unionid:
        return
    try:
        if not wechat.api("official_account").token_is_warm():
            raise WeChatError("no warm access token")
        link_follower(follower, fetch_unionid(follower.openid, QUICK_TIMEOUT_S))
    except WeChatError as exc:
        log.info("user/info for follower %s not done now (%s); a job will fill in the unionid", follower.id, exc)
        jobs.enqueue(fill_unionid, follower.id, job_id=f"oa-unionid-{follower.id}",
                     retries=RETRIES_S)


@jobs.job
def fill_unionid(follower_id: int) -> str | None:
    """Job: fetch and record the unionid; WeChat's errors propagate so RQ retries."""
    follower = db.session.get(Follower, follower_id)
    if follower is None or follower.unionid:
        return follower.unionid if follower else None
    link_follower(follower, fetch_unionid(follower.openid))
    db.session.commit()
    return follower.unionid
