"""Login, the customer, and the phone number."""
from __future__ import annotations

from flask import jsonify

from app.customers import service as customers
from app.extensions import db
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
