"""One-time subscription grants: what the customer accepted in `wx.requestSubscribeMessage`, spent one per message.

WeChat: a one-time subscription allows one message per accept ("一次性订阅…用户订阅一次，开发者可下发一条消息"),
and one `wx.requestSubscribeMessage` call shows at most 3 templates (more: errCode 10005 "cannot show more than 3
templates"). So the mini-program asks for the most useful templates first and reports each result here.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.errors import InvalidRequest
from app.extensions import db
from app.models import Customer, SubscriptionGrant, utcnow

RESULTS = ("accept", "reject", "ban", "filter")
ASK_AT_ONCE = 3  # wx.requestSubscribeMessage shows at most three templates per call
# Most useful first: the pickup code, then "ready", then the refund, then the thank-you.
USEFULNESS = ("order_paid", "order_ready", "order_refunded", "order_picked_up")


def subscribe_template_ids() -> dict[str, str]:
    """{message: template_id} of the configured mini-program subscribe messages, most useful first."""
    templates = current_app.config.get("NOTIFICATION_TEMPLATE_MAP") or {}
    return {message: templates[message].template_id for message in USEFULNESS if message in templates}


def record_results(customer: Customer, results: object) -> None:
    """The object wx.requestSubscribeMessage resolved with: {template_id: accept|reject|ban|filter}."""
    known = set(subscribe_template_ids().values())
    if not isinstance(results, dict) or not results:
        raise InvalidRequest("results must be an object {template_id: result}.", {"field": "results"})
    for template_id, result in results.items():
        if template_id == "errMsg":  # wx.requestSubscribeMessage puts its own errMsg beside the results
            continue
        if template_id not in known:
            raise InvalidRequest("Unknown template id.", {"field": "results", "template_id": str(template_id)[:64]})
        if result not in RESULTS:
            raise InvalidRequest(f"Each result is one of {', '.join(RESULTS)}.", {"field": "results"})
    for template_id, result in results.items():
        if template_id != "errMsg":
            _apply(customer.id, template_id, result)
    db.session.flush()


def _apply(customer_id: int, template_id: str, result: str) -> None:
    grant = db.session.get(SubscriptionGrant, (customer_id, template_id))
    if grant is None:
        try:
            with db.session.begin_nested():
                grant = SubscriptionGrant(customer_id=customer_id, template_id=template_id, remaining=0,
                                          last_result=result)
                db.session.add(grant)
        except IntegrityError:  # the same report twice at once
            grant = db.session.get(SubscriptionGrant, (customer_id, template_id))
    if result == "accept":
        db.session.execute(update(SubscriptionGrant).where(
            SubscriptionGrant.customer_id == customer_id, SubscriptionGrant.template_id == template_id)
            .values(remaining=SubscriptionGrant.remaining + 1, last_result=result, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        # The loaded row is behind the UPDATE now: the next read of it (the answer's summary, before the request's
        # commit) loads what the UPDATE wrote, with no statement of its own.
        db.session.expire(grant, ["remaining", "last_result", "updated_at"])
    elif result in ("reject", "ban"):
        # The user said no (ban: the template was banned by WeChat): nothing is left to send against.
        grant.remaining, grant.last_result = 0, result
    else:
        grant.last_result = result  # filter: WeChat filtered the template out (title mismatch); grants unchanged
    db.session.expire_all()


def summary(customer: Customer) -> dict:
    """{ask: [template_id, …] (at most 3, most useful first), grants: {template_id: remaining}}."""
    ids = subscribe_template_ids()
    rows = {g.template_id: g for g in db.session.scalars(
        select(SubscriptionGrant).where(SubscriptionGrant.customer_id == customer.id))}
    grants = {tid: (rows[tid].remaining if tid in rows else 0) for tid in ids.values()}
    # Ask first for what the customer holds none of; templates WeChat banned are not asked for.
    candidates = [tid for tid in ids.values() if not (tid in rows and rows[tid].last_result == "ban")]
    candidates.sort(key=lambda tid: grants[tid] > 0)  # stable: usefulness order within each group
    return {"ask": candidates[:ASK_AT_ONCE], "grants": grants}


def spend(customer_id: int, template_id: str) -> bool:
    """Take one grant (a guarded UPDATE, so two sends never spend one grant); False when there is none."""
    result = db.session.execute(
        update(SubscriptionGrant)
        .where(SubscriptionGrant.customer_id == customer_id, SubscriptionGrant.template_id == template_id,
               SubscriptionGrant.remaining > 0)
        .values(remaining=SubscriptionGrant.remaining - 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def give_back(customer_id: int, template_id: str) -> None:
    """A send that failed transiently did not use the grant on WeChat's side."""
    db.session.execute(
        update(SubscriptionGrant)
        .where(SubscriptionGrant.customer_id == customer_id, SubscriptionGrant.template_id == template_id)
        .values(remaining=SubscriptionGrant.remaining + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))


def clear(customer_id: int, template_id: str) -> None:
    """WeChat answered 43101: it holds no grant for us, whatever we counted."""
    db.session.execute(
        update(SubscriptionGrant)
        .where(SubscriptionGrant.customer_id == customer_id, SubscriptionGrant.template_id == template_id)
        .values(remaining=0, updated_at=utcnow())
        .execution_options(synchronize_session=False))
