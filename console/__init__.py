"""The merchant console at /console/: server-rendered pages over the same domain services as the API.

Sessions live in Flask's signed cookie (HttpOnly, SameSite=Lax, Secure in production) and end after
CONSOLE_IDLE_TIMEOUT_S without a click; every POST carries a CSRF token (Flask-WTF), checked for the console's
routes only, so the JSON API and WeChat's callbacks are untouched.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def register(app: Flask) -> None:
    from console import views_catalog, views_desk, views_money, views_oa, views_scan, views_stores  # noqa: F401  (routes on the blueprint)
    from console.auth import bp
    from console.cli import console_cli

    production = app.config["MICROMALL_ENV"] == "production"
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in console.auth for /console/ only
    # The token is bound to the session, which already expires after inactivity; a time limit of its own would
    # only make a counter tablet's forms fail after an hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Flask's defaults are set already, so these are assigned, not setdefault-ed.
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=production,
                      # The cookie itself dies with the idle timeout too; the server checks the last click.
                      PERMANENT_SESSION_LIFETIME=timedelta(seconds=app.config["CONSOLE_IDLE_TIMEOUT_S"]))
    csrf.init_app(app)
    if "jinja2.ext.InternationalizationExtension" not in app.jinja_env.extensions:
        # The text of the pages goes through _() so it can be translated; Chinese is the source language.
        app.jinja_env.add_extension("jinja2.ext.i18n")
        app.jinja_env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    app.register_blueprint(bp)
    app.cli.add_command(console_cli)
