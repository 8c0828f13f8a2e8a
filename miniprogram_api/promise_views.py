"""Issue 18 over HTTP: the customer's coupons and claims, rating an order, and for staff the store's ratings and
its service figures (with why subsidies are paused, if they are)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from app.coupons import issuing
from app.coupons.wallet import customer_coupons, state_of, valid_store_ids
from app.models import Coupon, CouponDefinition
from app.promises import ratings
from app.promises.figures import figures, subsidy_thresholds
from app.promises.terms import prep_minutes_now, terms_of
from app.stores.service import get_store
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.order_views import _order_or_404
from miniprogram_api.params import page_of
from miniprogram_api.render import iso
from miniprogram_api.schemas.coupons import ClaimBody, CouponOut, CouponPage, CouponsQuery, OfferList
from miniprogram_api.schemas.ratings import RatingBody, RatingOut, RatingPage, RatingsQuery, StoreServiceOut
from miniprogram_api.staff_auth import current_seat, manager_required, staff, staff_required

COUPONS, RATINGS, STAFF_SERVICE = ("customer", "coupons"), ("customer", "ratings"), ("staff", "service")


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
@operation(tags=COUPONS, query=CouponsQuery, ok=CouponPage, authenticated=True)
def my_coupons(query: CouponsQuery):
    """The customer's coupons with their state (available, locked, used, expired)"""
    coupons, total = customer_coupons(current_customer(), query.state, query.offset, query.per_page)
    return jsonify(page_of([coupon_json(c) for c in coupons], query.page, query.per_page, total))


@consumer.post("/me/coupons")
@customer_required
@operation(tags=COUPONS, json=ClaimBody, ok=CouponOut, status=201, authenticated=True, errors=(404, 409))
def claim_coupon(json: ClaimBody):
    """Claim a merchant coupon; 409 coupon_limit_reached, coupon_budget_exhausted, subsidy_paused"""
    coupon = issuing.claim(current_customer().id, json.definition_id)
    return jsonify(coupon_json(coupon)), 201


@consumer.get("/stores/<int:store_id>/coupons")
@operation(tags=("public", "coupons"), ok=OfferList, errors=(404,))
def store_coupon_offers(store_id: int):
    """Merchant coupons a customer may claim for this store"""
    get_store(store_id)  # 404 for an unknown store
    return jsonify(items=[offer_json(d) for d in issuing.offers_at(store_id)])


def rating_json(rating, order_no: str) -> dict[str, Any]:
    return {"order_no": order_no, "stars": rating.stars, "tags": [t for t in rating.tags.split(",") if t],
            "comment": rating.comment, "flagged": rating.flagged, "created_at": iso(rating.created_at)}


@consumer.post("/orders/<order_no>/rating")
@customer_required
@operation(tags=RATINGS, json=RatingBody, ok=RatingOut, status=201, authenticated=True, errors=(404, 409))
def rate_order(order_no: str, json: RatingBody):
    """Rate a picked-up order once, within 7 days; 409 order_not_rateable, rating_window_closed, already_rated"""
    order = _order_or_404(order_no)  # someone else's order is as absent as a missing one: 404
    rating = ratings.rate(current_customer(), order, json.stars, json.tags or [], json.comment or "")
    return jsonify(rating_json(rating, order.order_no)), 201


def service_json(store_id: int) -> dict[str, Any]:
    """A store's public service figures (GET /stores/{id} carries them as `service`)."""
    data = figures(store_id).as_dict()
    terms = terms_of(store_id)
    data.update(prep_minutes_now=prep_minutes_now(store_id), grace_minutes=terms.grace_minutes)
    return data


@staff.get("/ratings")
@manager_required
@operation(tags=("staff", "ratings"), query=RatingsQuery, ok=RatingPage, authenticated=True, errors=(403,))
def store_ratings(query: RatingsQuery):
    """Manager: the store's ratings, newest first (flagged=1: the low ones)"""
    rows, total = ratings.store_ratings(current_seat().store_id, query.flagged == "1", query.offset, query.per_page)
    return jsonify(page_of([rating_json(r, no) for r, no in rows], query.page, query.per_page, total))


@staff.get("/store/service")
@staff_required
@operation(tags=STAFF_SERVICE, ok=StoreServiceOut, authenticated=True)
def store_service():
    """The store's 30-day rating and on-time rate, the merchant's thresholds, and why subsidised coupons are paused
    if they are"""
    service = figures(current_seat().store_id)
    return jsonify({**service_json(service.store_id), "subsidy_allowed": service.subsidy_allowed,
                    "reasons": service.reasons, "thresholds": subsidy_thresholds()})
