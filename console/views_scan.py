"""Scan-to-login and binding a WeChat to a console account (see app/operators/scan_login.py)."""
from __future__ import annotations

from flask import Response, g, jsonify, render_template, request, session, url_for

from app.errors import NotFound
from app.extensions import db
from app.operators import scan_login
from app.ratelimit import Limit, take
from console import wechat_calls
from console.auth import PUBLIC_ENDPOINTS, bp, sign_in

PUBLIC_ENDPOINTS.update({"console.scan_login_page", "console.scan_login_qr", "console.scan_login_status"})


def _new_code(key: str, binding) -> None:
    # Each code is a row and a call to WeChat: 30 per client address in 10 minutes is plenty for a person.
    take((Limit(f"console:scan:{request.remote_addr or ''}", 30, 600),))
    nonce, _ = scan_login.start(binding)
    session[key] = nonce


def _qr(key: str) -> Response:
    nonce = session.get(key)
    if not nonce:
        raise NotFound("二维码已失效，请刷新页面。")
    image = wechat_calls.login_qrcode(scan_login.SCENE_PREFIX + nonce)
    return Response(image.content, mimetype=image.content_type, headers={"Cache-Control": "no-store"})


@bp.route("/login/scan")
def scan_login_page():
    _new_code("scan_nonce", None)
    return render_template("console/scan.html", qr=url_for("console.scan_login_qr"),
                           status=url_for("console.scan_login_status"), binding=False)


@bp.route("/login/scan-qr")
def scan_login_qr():
    return _qr("scan_nonce")


@bp.route("/login/scan/status")
def scan_login_status():
    nonce = session.get("scan_nonce")
    user = scan_login.poll(nonce) if nonce else None
    if user is None:
        return jsonify({"signed_in": False})
    sign_in(user)
    return jsonify({"signed_in": True, "next": url_for("console.home")})


@bp.route("/wechat/bind")
def bind_wechat():
    _new_code("bind_nonce", g.operator)
    return render_template("console/scan.html", qr=url_for("console.bind_wechat_qr"),
                           status=url_for("console.bind_wechat_status"), binding=True)


@bp.route("/wechat/bind-qr")
def bind_wechat_qr():
    return _qr("bind_nonce")


@bp.route("/wechat/bind/status")
def bind_wechat_status():
    db.session.refresh(g.operator)
    bound = g.operator.wechat_openid is not None
    return jsonify({"signed_in": bound, "next": url_for("console.today") if bound else None})
