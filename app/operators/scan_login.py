"""Scan-to-login (and binding a WeChat to a console account) through a temporary official-account QR code.

The browser asks for a nonce (kept in its signed session; only the SHA-256 is stored) and shows a QR code whose
scene is `login_<nonce>`. When the official-account callback sees that scene (a SCAN event from a follower, or a
subscribe_scan from someone who follows by scanning it), `confirm_scan` records who scanned; the waiting browser's
poll then finds the nonce confirmed and is signed in, once (a guarded UPDATE spends the nonce). A nonce made by a
signed-in user binds the scanner's openid to that user instead.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import ConsoleLoginNonce, ConsoleUser, utcnow
from app.operators.audit import record

SCENE_PREFIX = "login_"
NONCE_TTL = timedelta(seconds=300)


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def start(binding_user: ConsoleUser | None = None) -> tuple[str, str]:
    """(nonce, scene) for a new QR code. Flushes."""
    nonce = secrets.token_urlsafe(16)
    now = utcnow()
    db.session.add(ConsoleLoginNonce(nonce_hash=_hash(nonce), created_at=now, expires_at=now + NONCE_TTL,
                                     user_id=binding_user.id if binding_user else None))
    db.session.flush()
    return nonce, SCENE_PREFIX + nonce


def is_login_scene(scene: str | None) -> bool:
    return bool(scene) and scene.startswith(SCENE_PREFIX)


def confirm_scan(scene: str, openid: str) -> str:
    """Called by the official-account callback for a `login_…` scene; returns the text to answer the scanner
    with. Flushes; the callback commits."""
    row = db.session.get(ConsoleLoginNonce, _hash(scene[len(SCENE_PREFIX):]))
    now = utcnow()
    if row is None or row.expires_at <= now or row.confirmed_at is not None:
        return "这个登录二维码已失效，请在电脑上刷新后重新扫码。"
    if row.user_id is not None:  # binding: the signed-in user made this code
        holder = db.session.scalar(select(ConsoleUser).where(ConsoleUser.wechat_openid == openid))
        if holder is not None and holder.id != row.user_id:
            return "这个微信已绑定另一个后台账号。"
        user = db.session.get(ConsoleUser, row.user_id)
        user.wechat_openid = openid
        row.confirmed_at = now
        record(user, "user.wechat_bind", f"console_user:{user.id}", None, {"bound": True})
        db.session.flush()
        return "已绑定商家后台账号，以后可以扫码登录。"
    user = db.session.scalar(select(ConsoleUser).where(ConsoleUser.wechat_openid == openid,
                                                       ConsoleUser.active.is_(True)))
    if user is None:
        return "这个微信还没有绑定商家后台账号：请先用密码登录，在「改密码」页绑定微信。"
    row.user_id, row.confirmed_at = user.id, now
    db.session.flush()
    return "已确认登录商家后台。"


def poll(nonce: str) -> ConsoleUser | None:
    """The user to sign in once the scan is confirmed; the nonce is spent (one browser, one sign-in). Flushes."""
    row = db.session.get(ConsoleLoginNonce, _hash(nonce))
    if row is None or row.confirmed_at is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    spent = db.session.execute(update(ConsoleLoginNonce).where(ConsoleLoginNonce.nonce_hash == row.nonce_hash,
                                                               ConsoleLoginNonce.used_at.is_(None))
                               .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        return None
    user = db.session.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    user.last_login_at = utcnow()
    record(user, "login.scan", f"console_user:{user.id}", None, None)
    db.session.flush()
    return user
