"""A follower's unionid from the official account's `cgi-bin/user/info`: tried quickly inside the callback (WeChat
waits 5 s for its answer), otherwise filled in by a job that retries."""
from __future__ import annotations

import logging

from requests import RequestException
from wechatpy.exceptions import WeChatClientException

from app import jobs, wechat
from app.extensions import db
from app.followers.service import link_follower
from app.models import Follower

log = logging.getLogger(__name__)
# (connect, read): a slow WeChat must not eat the 5 seconds the callback has for its reply.
QUICK_TIMEOUT_S = (1.0, 1.5)
RETRIES_S = (10, 60, 300)


def fetch_unionid(openid: str, timeout: tuple[float, float] | None = None) -> str | None:
    options = {"timeout": timeout} if timeout else {}
    info = wechat.client("official_account").get("user/info", params={"openid": openid, "lang": "zh_CN"},
                                                    **options)
    # WeChat says nothing more (no unionid) about someone who does not follow the account.
    return info.get("unionid") if info.get("subscribe") else None


def link_quickly_or_later(follower: Follower) -> None:
    """In the callback: one short user/info call; on any failure a job fills the unionid in after the commit."""
    if follower.unionid:
        return
    try:
        link_follower(follower, fetch_unionid(follower.openid, QUICK_TIMEOUT_S))
    except (RequestException, WeChatClientException) as exc:
        log.info("user/info for follower %s failed (%s); a job will fill in the unionid", follower.id, exc)
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
