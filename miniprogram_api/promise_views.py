"""Issue 18 over HTTP: the customer's coupons and claims, rating an order, and for staff the store's ratings and
its service figures (with why subsidies are paused, if they are)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from app.coupons import issuing
from app.coupons.wallet import customer_coupons, state_of, valid_store_ids
from app.errors import invalid_field
from app.extensions import db
from app.models import Coupon, CouponDefinition
from app.promises import ratings
from app.promises.figures import figures, subsidy_thresholds
from app.promises.terms import prep_minutes_now, terms_of
from app.stores.service import get_store
from miniprogram_api import consumer
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.order_views import _order_or_404
from miniprogram_api.params import body_int, body_str, json_body, page_of, paging, query_str
from miniprogram_api.render import iso
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required

COUPON_STATES = ("available", "locked", "used", "expired")


def coupon_json(coupon: Coupon) -> dict[str, Any]:
    definition = coupon.definition
    return {"id": coupon.id, "title": definition.title, "kind": definition.kind, "state": state_of(coupon),
            "amount_fen": coupon.amount_fen, "min_spend_fen": coupon.min_spend_fen,
            "store_ids": valid_store_ids(definition.id), "issued_at": iso(coupon.issued_at),
            "expires_at": iso(coupon.expires_at), "used_at": iso(coupon.used_at)}


def offer_json(definition: CouponDefinition) -> dict[str, Any]:
    return {"definition_id": definition.id, "title": definition.title, "amount_fen": definition.amount_fen,
            "min_spend_fen": definition.min_spend_fen, "valid_days": definition.valid_days,
            "per_customer_limit": definition.per_customer_limit}


@consumer.get("/me/coupons")
@customer_required
def my_coupons():
    state = query_str("state", max_length=12, choices=COUPON_STATES)
    page, per_page, offset = paging()
    coupons, total = customer_coupons(current_customer(), state, offset, per_page)
    return jsonify(page_of([coupon_json(c) for c in coupons], page, per_page, total))


@consumer.post("/me/coupons")
@customer_required
def claim_coupon():
    definition_id = body_int(json_body(), "definition_id", minimum=1)
    coupon = issuing.claim(current_customer().id, definition_id)
    body = coupon_json(coupon)
    db.session.commit()
    return jsonify(body), 201


@consumer.get("/stores/<int:store_id>/coupons")
def store_coupon_offers(store_id: int):
    get_store(store_id)  # 404 for an unknown store
    return jsonify(items=[offer_json(d) for d in issuing.offers_at(store_id)])


def _tags(body: dict) -> list[str]:
    value = body.get("tags")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > ratings.MAX_TAGS:
        raise invalid_field("tags", f"must be a list of at most {ratings.MAX_TAGS} strings")
    tags = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > ratings.MAX_TAG_LENGTH or "," in tag:
            raise invalid_field(f"tags[{index}]", f"must be 1-{ratings.MAX_TAG_LENGTH} characters without commas")
        tags.append(tag.strip())
    return tags


def rating_json(rating, order_no: str) -> dict[str, Any]:
    return {"order_no": order_no, "stars": rating.stars, "tags": [t for t in rating.tags.split(",") if t],
            "comment": rating.comment, "flagged": rating.flagged, "created_at": iso(rating.created_at)}


@consumer.post("/orders/<order_no>/rating")
@customer_required
def rate_order(order_no: str):
    body = json_body()
    stars = body_int(body, "stars", minimum=1, maximum=5)
    tags = _tags(body)
    comment = body_str(body, "comment", max_length=ratings.MAX_COMMENT, required=False, default="")
    order = _order_or_404(order_no)  # someone else's order is as absent as a missing one: 404
    rating = ratings.rate(current_customer(), order, stars, tags, comment)
    body = rating_json(rating, order.order_no)
    db.session.commit()
    return jsonify(body), 201


def service_json(store_id: int) -> dict[str, Any]:
    """A store's public service figures (GET /stores/{id} carries them as `service`)."""
    data = figures(store_id).as_dict()
    terms = terms_of(store_id)
    data.update(prep_minutes_now=prep_minutes_now(store_id), grace_minutes=terms.grace_minutes)
    return data


@staff.get("/ratings")
@manager_required
def store_ratings():
    flagged = query_str("flagged", max_length=1, choices=("0", "1")) == "1"
    page, per_page, offset = paging()
    rows, total = ratings.store_ratings(current_seat().store_id, flagged, offset, per_page)
    return jsonify(page_of([rating_json(r, no) for r, no in rows], page, per_page, total))


@staff.get("/store/service")
@staff_required
def store_service():
    """The store's trailing 30-day figures, the merchant's thresholds, and whether (and why not) it may issue
    subsidised coupons."""
    service = figures(current_seat().store_id)
    return jsonify({**service_json(service.store_id), "subsidy_allowed": service.subsidy_allowed,
                    "reasons": service.reasons, "thresholds": subsidy_thresholds()})
