"""Linking a follower of the official account to a customer of the mini-program without a unionid.

WeChat returns a unionid only when both apps are bound to one Open Platform account; where they are not, the
follower sends 绑定 (or taps the menu item), the account answers with a mini-program link whose path carries a
one-time token (`token=` query parameter), and the mini-program posts that token with the customer's login
(`POST /api/v1/me/official-account/link`). Tokens live 10 minutes, work once, and are stored hashed.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app.errors import ApiError
from app.extensions import db
from app.models import Customer, Follower, FollowerLinkToken, utcnow

TOKEN_TTL = timedelta(minutes=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link_token(follower: Follower) -> str:
    token = secrets.token_urlsafe(24)
    db.session.add(FollowerLinkToken(token_hash=_hash(token), follower_id=follower.id,
                                     expires_at=utcnow() + TOKEN_TTL))
    db.session.flush()
    return token


def link_with_token(customer: Customer, token: str) -> Follower:
    """Spend the token (a guarded UPDATE: two posts of one token link once) and link its follower."""
    now = utcnow()
    spent = db.session.execute(
        update(FollowerLinkToken)
        .where(FollowerLinkToken.token_hash == _hash(token), FollowerLinkToken.used_at.is_(None),
               FollowerLinkToken.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise ApiError("The link is unknown, already used or expired; send 绑定 to the official account again.",
                       code="link_token_invalid", status=404)
    follower_id = db.session.scalar(select(FollowerLinkToken.follower_id)
                                    .where(FollowerLinkToken.token_hash == _hash(token)))
    follower = db.session.get(Follower, follower_id)
    if follower.customer_id not in (None, customer.id):
        raise ApiError("This follower is already linked to another account.", code="follower_already_linked",
                       status=409)
    follower.customer_id = customer.id
    db.session.flush()
    return follower
