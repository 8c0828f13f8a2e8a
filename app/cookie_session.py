"""Flask's signed-cookie session, opened only when the request carries the cookie.

Only the merchant console (/console/) uses the session, yet Flask opens it on every request, and opening it builds
the itsdangerous serializer (key list, signer, salt) before it even looks for the cookie: measured as 15% of a
/healthz request in process (cProfile, bench notes in bench/README.md). An API request, a WeChat callback or a
probe carries no session cookie, so it now gets the empty session at once; a request with the cookie is handled
exactly as before, and writing a session (console login) builds the serializer as Flask always did.
"""
from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieOnDemandSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No Cookie header at all (API clients, WeChat, probes): not even the header is parsed.
        if app.secret_key and ("HTTP_COOKIE" not in request.environ
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)
