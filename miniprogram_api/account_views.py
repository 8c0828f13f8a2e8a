"""Login, the customer, the phone number, subscribe-message grants and the official-account link."""
from __future__ import annotations

from flask import jsonify

from app.customers import service as customers
from app.followers import linking
from app.notifications import grants
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import bearer_token, current_customer, customer_required
from miniprogram_api.render import customer_json
from miniprogram_api.schemas.account import (CodeBody, CustomerOut, LinkBody, LinkOut, LoginOut,
                                             SubscriptionResultsBody, SubscriptionsOut)

ACCOUNT = ("customer", "account")


@consumer.post("/auth/login")
@operation(tags=("public", "account"), json=CodeBody, ok=LoginOut, errors=(401, 403, 503))
def login(json: CodeBody):
    """Log in with a wx.login() code (code2session)"""
    token, expires_in, customer = customers.login(json.code)
    return jsonify(token=token, expires_in=expires_in, customer=customer_json(customer))


@consumer.post("/auth/logout")
@customer_required
@operation(tags=ACCOUNT, ok=None, status=204, authenticated=True)
def logout():
    """Revoke this customer token (204); the next request with it is 401"""
    customers.logout(bearer_token())
    return "", 204


@consumer.get("/me")
@customer_required
@operation(tags=ACCOUNT, ok=CustomerOut, authenticated=True)
def me():
    """The logged-in customer"""
    return jsonify(customer_json(customers.with_profile(current_customer())))


@consumer.post("/me/phone")
@customer_required
@operation(tags=ACCOUNT, json=CodeBody, ok=CustomerOut, authenticated=True, errors=(503,))
def bind_phone(json: CodeBody):
    """Bind the phone number from getPhoneNumber"""
    customer = customers.bind_phone(current_customer(), json.code)
    return jsonify(customer_json(customer))


@consumer.get("/me/subscriptions")
@customer_required
@operation(tags=ACCOUNT, ok=SubscriptionsOut, authenticated=True)
def subscriptions():
    """Subscribe templates to request next (at most three, most useful first) and the grants held"""
    return jsonify(grants.summary(current_customer()))


@consumer.post("/me/subscriptions")
@customer_required
@operation(tags=ACCOUNT, json=SubscriptionResultsBody, ok=SubscriptionsOut, authenticated=True)
def report_subscriptions(json: SubscriptionResultsBody):
    """Report what wx.requestSubscribeMessage resolved with: {results: {template_id: accept|reject|ban|filter}}"""
    customer = current_customer()
    grants.record_results(customer, json.results)
    return jsonify(grants.summary(customer))


@consumer.post("/me/official-account/link")
@customer_required
@operation(tags=ACCOUNT, json=LinkBody, ok=LinkOut, authenticated=True, errors=(404, 409))
def link_official_account(json: LinkBody):
    """Link the follower of the official account's one-time 绑定 token to this customer"""
    follower = linking.link_with_token(current_customer(), json.token)
    return jsonify(linked=True, following=bool(follower.subscribed))
