"""Keyword rules: the operator's own answers to texts, kept in the database and managed from `micromall oa rules`."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, InvalidRequest, NotFound
from app.extensions import db
from app.models import ReplyRule

MATCH_TYPES = ("exact", "contains")
REPLY_TYPES = ("text", "news")


def normalise(text: str) -> str:
    return text.strip().casefold()


def add_rule(keyword: str, match_type: str, priority: int, reply_type: str, content: str = "", title: str = "",
             url: str = "", image_url: str = "") -> ReplyRule:
    keyword = normalise(keyword)
    if not keyword or len(keyword) > 64:
        raise InvalidRequest("The keyword must be 1 to 64 characters.")
    if match_type not in MATCH_TYPES or reply_type not in REPLY_TYPES:
        raise InvalidRequest(f"match must be one of {MATCH_TYPES} and reply one of {REPLY_TYPES}.")
    if reply_type == "text" and not content.strip():
        raise InvalidRequest("A text rule needs its reply text.")
    if reply_type == "news" and not (title.strip() and url.strip()):
        raise InvalidRequest("A news rule needs a title and a URL.")
    rule = ReplyRule(keyword=keyword, match_type=match_type, priority=priority, reply_type=reply_type,
                     content=content, title=title, url=url, image_url=image_url)
    try:
        with db.session.begin_nested():
            db.session.add(rule)
    except IntegrityError:
        raise Conflict(f"There is already a {match_type} rule for {keyword!r}.") from None
    return rule


def list_rules() -> list[ReplyRule]:
    return list(db.session.scalars(
        select(ReplyRule).order_by(ReplyRule.match_type.desc(), ReplyRule.priority.desc(), ReplyRule.id)))


def remove_rule(rule_id: int) -> None:
    rule = db.session.get(ReplyRule, rule_id)
    if rule is None:
        raise NotFound(f"Rule {rule_id} does not exist.")
    db.session.delete(rule)
    db.session.flush()


def match_rule(text: str) -> ReplyRule | None:
    """An exact rule for the whole text, else the highest-priority rule whose keyword the text contains.

    Contains rules are few (an operator writes them by hand), so they are matched here rather than with LIKE,
    where a keyword's own % or _ would act as wildcards."""
    wanted = normalise(text)
    if not wanted:
        return None
    exact = db.session.scalar(
        select(ReplyRule).where(ReplyRule.match_type == "exact", ReplyRule.keyword == wanted)
        .order_by(ReplyRule.priority.desc(), ReplyRule.id).limit(1))
    if exact is not None:
        return exact
    contains = db.session.scalars(
        select(ReplyRule).where(ReplyRule.match_type == "contains")
        .order_by(ReplyRule.priority.desc(), ReplyRule.id))
    return next((rule for rule in contains if rule.keyword in wanted), None)
