"""Signing in and out, the first-login password change, and the checks every console page runs first."""
from __future__ import annotations

import time
from functools import wraps
from typing import Callable
from urllib.parse import urlparse

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError

from app.errors import ApiError, RateLimited, Unauthenticated
from app.extensions import db
from app.operators import accounts
from app.uow import keep_despite_refusal
from console import csrf
from console.forms import LoginForm, PasswordForm

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
               static_url_path="/static")
PUBLIC_ENDPOINTS = {"console.login", "console.static"}
_SESSION_KEYS = ("console_user", "console_epoch", "console_seen")


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


@bp.before_request
def _guard():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # raises CSRFError (400) without a valid token
    g.operator = None
    # Flask-WTF caches the signed token in `g`, which outlives the request when the caller keeps an app context
    # open (tests, scripts): a token cached for an earlier session must not be handed out for this one.
    g.pop("csrf_token", None)
    user_id = session.get("console_user")
    if user_id is not None:
        idle = time.time() - float(session.get("console_seen", 0))
        user = accounts.user_for_session(user_id, session.get("console_epoch", -1))
        if idle > current_app.config["CONSOLE_IDLE_TIMEOUT_S"] or user is None:
            _sign_out()
            if request.endpoint not in PUBLIC_ENDPOINTS:
                return _to_login("登录已过期，请重新登录。")
        else:
            g.operator = user
            if request.endpoint != "console.today_board":  # the counter page's polling is not a click
                session["console_seen"] = time.time()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.operator is None:
        return _to_login(None)
    if g.operator.must_change_password and request.endpoint not in ("console.password", "console.logout"):
        return redirect(url_for("console.password"))
    return None


def _to_login(message: str | None):
    if wants_json():
        return jsonify({"error": {"code": "unauthenticated", "message": message or "请先登录。"}}), 401
    if message:
        flash(message, "warning")
    nxt = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.login", next=nxt.rstrip("?") if nxt else None))


def _sign_out() -> None:
    for key in _SESSION_KEYS:
        session.pop(key, None)


def sign_in(user) -> None:
    session.clear()  # a fresh session (and CSRF token) at every sign-in: no fixation
    session.permanent = True
    session.update(console_user=user.id, console_epoch=user.session_epoch, console_seen=time.time())


def writer_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        accounts.require_writer(g.operator)
        return view(*args, **kwargs)
    return wrapped


def owner_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        accounts.require_owner(g.operator)
        return view(*args, **kwargs)
    return wrapped


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith("/console/") and not urlparse(target).netloc and "\\" not in target:
        return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except RateLimited as exc:
            db.session.rollback()
            form.password.errors.append(f"尝试次数过多，请 {exc.details['retry_after_s']} 秒后再试。")
            status = 429
        except Unauthenticated as exc:
            keep_despite_refusal()  # the failure stays in the audit log
            form.password.errors.append(exc.message)
            status = 401
        else:
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("console/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    _sign_out()
    flash("已退出登录。", "info")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(g.operator, form.current.data, form.new.data)
        except ApiError as exc:
            db.session.rollback()
            form.new.errors.append(exc.message)
        else:
            sign_in(g.operator)  # the epoch moved: this browser stays in, the others are out
            flash("密码已修改。", "info")
            return redirect(url_for("console.home"))
    return render_template("console/password.html", form=form), 200 if request.method == "GET" or \
        form.errors == {} else 400


@bp.route("/")
def home():
    return redirect(url_for("console.today"))


@bp.errorhandler(CSRFError)
def _csrf_error(err: CSRFError):
    db.session.rollback()
    if wants_json():
        return jsonify({"error": {"code": "csrf_failed", "message": "表单已失效，请刷新页面后重试。"}}), 400
    return render_template("console/error.html", status=400, message="表单已失效，请刷新页面后重试。"), 400


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    db.session.rollback()
    if wants_json():
        body = {"error": {"code": err.code, "message": err.message, **({"details": err.details} if err.details
                                                                        else {})}}
        return jsonify(body), err.status, err.headers
    return render_template("console/error.html", status=err.status, message=err.message), err.status, err.headers
