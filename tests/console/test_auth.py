"""Console sign-in: CSRF, session expiry, login rate limits, first-login password change, the audit log, the CLI."""
from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.models import ConsoleAuditEntry, ConsoleUser
from tests.console.conftest import PASSWORD, csrf_token, post, sign_in


def test_login_then_pages_and_cookie_flags(client, make_user, shops):
    make_user("boss", "owner")
    assert client.get("/console/today").status_code == 302  # not signed in: to the login page
    response = sign_in(client, "boss")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/console/today").status_code == 200


def test_wrong_password_is_refused_and_audited(client, make_user, shops, app):
    make_user("boss", "owner")
    response = sign_in(client, "boss", "wrong password!")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(ConsoleAuditEntry.action)).all()
    assert "login.failed" in actions


def test_post_without_csrf_token_is_refused(owner, shops, app):
    response = owner.post(f"/console/staff/invite?store={shops.store_a}", data={"name": "x", "role": "clerk"})
    assert response.status_code == 400 and "表单已失效" in response.get_data(as_text=True)
    response = owner.post(f"/console/staff/invite?store={shops.store_a}",
                          data={"name": "x", "role": "clerk", "csrf_token": "forged.token.value"})
    assert response.status_code == 400
    # A login form too: a page of another site cannot sign a browser in as someone else.
    assert owner.post("/console/login", data={"username": "boss", "password": PASSWORD}).status_code == 400


def test_session_expires_after_inactivity(client, make_user, shops, app):
    make_user("boss", "owner")
    sign_in(client, "boss")
    assert client.get("/console/orders").status_code == 200
    with client.session_transaction() as session:
        session["console_seen"] = time.time() - app.config["CONSOLE_IDLE_TIMEOUT_S"] - 1
    response = client.get("/console/orders")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert client.get("/console/orders").status_code == 302  # and it stays signed out


def test_polling_does_not_keep_the_session_alive(client, make_user, shops, app):
    make_user("boss", "owner")
    sign_in(client, "boss")
    with client.session_transaction() as session:
        session["console_seen"] = seen = time.time() - 60
    assert client.get("/console/today/board").status_code == 200
    with client.session_transaction() as session:
        assert session["console_seen"] == seen


def test_login_rate_limited_per_user(client, make_user, shops):
    make_user("boss", "owner")
    statuses = [sign_in(client, "boss", f"guess-{n}").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right password waits now: the limit is on the account, not on wrong answers only.
    assert sign_in(client, "boss").status_code == 429


def test_login_rate_limited_per_address(client, make_user, shops):
    statuses = [sign_in(client, f"nobody{n}", "x").status_code for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_success_does_not_count_against_the_limit(client, make_user, shops):
    make_user("boss", "owner")
    for _ in range(8):
        assert sign_in(client, "boss").status_code == 302


def test_first_login_must_change_password(client, make_user, shops, app):
    make_user("newbie", "manager", [shops.store_a], must_change=True)
    sign_in(client, "newbie")
    response = client.get("/console/today")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/password")
    token = csrf_token(client, "/console/password")
    short = client.post("/console/password", data={"current": PASSWORD, "new": "short", "confirm": "short",
                                                   "csrf_token": token})
    assert short.status_code == 400
    done = client.post("/console/password", data={"current": PASSWORD, "new": "a new long password",
                                                  "confirm": "a new long password", "csrf_token": token})
    assert done.status_code == 302
    assert client.get("/console/today").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(ConsoleUser).where(ConsoleUser.username == "newbie"))
        assert not user.must_change_password and user.password_hash.startswith("scrypt:")


def test_password_change_signs_out_other_browsers(app, make_user, shops):
    make_user("boss", "owner")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "boss")
    sign_in(second, "boss")
    token = csrf_token(first, "/console/password")
    first.post("/console/password", data={"current": PASSWORD, "new": "another long password",
                                          "confirm": "another long password", "csrf_token": token})
    assert first.get("/console/orders").status_code == 200
    assert second.get("/console/orders").status_code == 302


def test_changes_are_audited_with_before_and_after(owner, shops, app):
    response = post(owner, "/console/catalog/stock", {"store_id": shops.store_a, "sku_id": shops.sku_id,
                                                      "quantity": 42})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalars(select(ConsoleAuditEntry).where(ConsoleAuditEntry.action == "stock.set")).one()
        assert (entry.before, entry.after, entry.store_id) == ('{"quantity": 10}', '{"quantity": 42}', shops.store_a)
    assert "stock.set" in owner.get("/console/audit").get_data(as_text=True)


def test_create_owner_prints_a_one_time_password(app, shops):
    result = app.test_cli_runner().invoke(args=["console", "create-owner", "--username", "chief"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    client = app.test_client()
    assert sign_in(client, "chief", password).status_code == 302
    assert client.get("/console/today").headers["Location"].endswith("/console/password")
    again = app.test_cli_runner().invoke(args=["console", "create-owner", "--username", "chief"])
    assert again.exit_code != 0


def test_open_redirect_refused(client, make_user, shops):
    make_user("boss", "owner")
    token = csrf_token(client)
    response = client.post("/console/login?next=https://evil.example/", data={
        "username": "boss", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/console/")
