"""Keyword rules: the operator's own answers to texts, kept in the database and managed from `micromall oa rules`
and the console.

With Redis, texts are matched against a copy of every rule kept in Redis and tagged with a rules version, so a text
that no built-in keyword answers sends no SQL (S4 in bench/README.md). add_rule and remove_rule mark the session; its
commit then bumps the version (after the commit: a copy read from the database before it is tagged with the old
version and never served again). The copy also expires after RULES_TTL_S, for changes made outside these functions.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidRequest, NotFound
from app.extensions import db, redis_client
from app.models import ReplyRule

log = logging.getLogger(__name__)
MATCH_TYPES = ("exact", "contains")
REPLY_TYPES = ("text", "news")
RULES_VERSION_KEY = "micromall:oa:rules:version"
RULES_KEY = "micromall:oa:rules"
RULES_TTL_S = 60
_CHANGED = "micromall_rules_changed"  # on session.info: a rule was added or removed in this transaction
_COLUMNS = ("id", "keyword", "match_type", "priority", "reply_type", "content", "title", "url", "image_url")


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
    db.session.info[_CHANGED] = True
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
    db.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        redis = redis_client()
        if redis is not None:
            try:
                redis.incr(RULES_VERSION_KEY)
            except RedisError:  # the copy is served until it expires (RULES_TTL_S)
                log.warning("could not bump the keyword rules' version", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def _cached_rules() -> list[dict[str, Any]] | None:
    """Every rule in list_rules' order (exact first, then by priority and id), from Redis when its copy is at the
    current version, else read and stored; None without Redis, or when it fails (the caller asks the database)."""
    redis = redis_client()
    if redis is None:
        return None
    try:
        version_raw, copy_raw = redis.mget(RULES_VERSION_KEY, RULES_KEY)
    except RedisError:
        log.warning("keyword rules' copy unavailable; matching in the database", exc_info=True)
        return None
    version = int(version_raw or 0)
    if copy_raw:
        copy = json.loads(copy_raw)
        if copy["version"] == version:
            return copy["rules"]
    rules = [{name: getattr(rule, name) for name in _COLUMNS} for rule in list_rules()]
    try:
        redis.set(RULES_KEY, json.dumps({"version": version, "rules": rules}, ensure_ascii=False), ex=RULES_TTL_S)
    except RedisError:
        log.warning("keyword rules' copy not stored", exc_info=True)
    return rules


def match_rule(text: str) -> ReplyRule | None:
    """An exact rule for the whole text, else the highest-priority rule whose keyword the text contains.

    Contains rules are few (an operator writes them by hand), so they are matched here rather than with LIKE,
    where a keyword's own % or _ would act as wildcards."""
    wanted = normalise(text)
    if not wanted:
        return None
    rules = _cached_rules()
    if rules is not None:
        # The first in list_rules' order is the exact rule of highest priority, else the contains rule.
        found = next((rule for rule in rules if rule["keyword"] == wanted
                      or (rule["match_type"] == "contains" and rule["keyword"] in wanted)), None)
        return ReplyRule(**found) if found is not None else None  # transient: read, never added to the session
    exact = db.session.scalar(
        select(ReplyRule).where(ReplyRule.match_type == "exact", ReplyRule.keyword == wanted)
        .order_by(ReplyRule.priority.desc(), ReplyRule.id).limit(1))
    if exact is not None:
        return exact
    contains = db.session.scalars(
        select(ReplyRule).where(ReplyRule.match_type == "contains")
        .order_by(ReplyRule.priority.desc(), ReplyRule.id))
    return next((rule for rule in contains if rule.keyword in wanted), None)
