"""Replies that could not be given within WeChat's 5 seconds, sent later through the customer-service message API
(`cgi-bin/message/custom/send`, allowed within 48 hours of the follower's last message)."""
from __future__ import annotations

from app import jobs, wechat
from app.extensions import db
from app.followers import service as followers
from app.followers.unionid import fetch_unionid
from app.models import Follower
from app.uow import commit_before_calling_wechat
from official_account.answers import Answer
from official_account.handlers import answer_for


def send_answer(openid: str, answer: Answer) -> None:
    api = wechat.api("official_account")
    if isinstance(answer, str):
        api.send_custom_message(openid, "text", {"content": answer})
    else:
        # Customer-service news: title, description, url, picurl (one article since 2018, WeChat shows the first).
        articles = [{"title": a.get("title", ""), "description": a.get("description", ""), "url": a.get("url", ""),
                     "picurl": a.get("image", "")} for a in answer]
        api.send_custom_message(openid, "news", {"articles": articles})


@jobs.job
def answer_later(follower_id: int, topic: str) -> None:
    """Job: learn who the follower is (user/info), then answer `topic`. WeChat's errors propagate so RQ retries;
    the send comes last, so a retry never repeats a message that went out."""
    follower = db.session.get(Follower, follower_id)
    if follower is None:
        return
    if follower.unionid is None:
        followers.link_follower(follower, fetch_unionid(follower.openid))
    answer = answer_for(topic, followers.customer_of(follower))
    openid = follower.openid
    commit_before_calling_wechat()
    send_answer(openid, answer)
