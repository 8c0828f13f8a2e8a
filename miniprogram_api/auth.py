"""Bearer tokens: who is calling. The customer is put on `g` for the views of this request."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from app.customers.service import customer_for_token
from app.errors import Unauthenticated
from app.models import Customer


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the token from /auth/login as 'Authorization: Bearer <token>'.")
    return token.strip()


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.customer = customer_for_token(bearer_token())
        return view(*args, **kwargs)

    return wrapper


def current_customer() -> Customer:
    return g.customer
