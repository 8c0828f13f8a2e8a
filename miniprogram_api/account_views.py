"""Login, the customer, the phone number, subscribe-message grants and the official-account link."""
from __future__ import annotations

from flask import jsonify

from app.customers import service as customers
from app.extensions import db
from app.followers import linking
from app.notifications import grants
from miniprogram_api import consumer
from miniprogram_api.auth import bearer_token, current_customer, customer_required
from miniprogram_api.params import body_str, json_body
from miniprogram_api.render import customer_json


@consumer.post("/auth/login")
def login():
    code = body_str(json_body(), "code", max_length=128)
    token, expires_in, customer = customers.login(code)
    db.session.commit()
    return jsonify(token=token, expires_in=expires_in, customer=customer_json(customer))


@consumer.post("/auth/logout")
@customer_required
def logout():
    """Revokes the token it is called with (204); the next request with it is 401."""
    customers.logout(bearer_token())
    db.session.commit()
    return "", 204


@consumer.get("/me")
@customer_required
def me():
    return jsonify(customer_json(current_customer()))


@consumer.post("/me/phone")
@customer_required
def bind_phone():
    code = body_str(json_body(), "code", max_length=128)
    customer = customers.bind_phone(current_customer(), code)
    db.session.commit()
    return jsonify(customer_json(customer))


@consumer.get("/me/subscriptions")
@customer_required
def subscriptions():
    """Which subscribe templates to request next (at most three, most useful first) and the grants held."""
    return jsonify(grants.summary(current_customer()))


@consumer.post("/me/subscriptions")
@customer_required
def report_subscriptions():
    """What wx.requestSubscribeMessage resolved with: {results: {template_id: accept|reject|ban|filter}}."""
    customer = current_customer()
    grants.record_results(customer, json_body().get("results"))
    db.session.commit()
    return jsonify(grants.summary(customer))


@consumer.post("/me/official-account/link")
@customer_required
def link_official_account():
    """The one-time token of the official account's 绑定 reply links that follower to this customer."""
    token = body_str(json_body(), "token", max_length=64)
    follower = linking.link_with_token(current_customer(), token)
    db.session.commit()
    return jsonify(linked=True, following=bool(follower.subscribed))
