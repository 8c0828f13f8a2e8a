"""Scan-to-login through a temporary official-account QR code: bind first (signed in), then a scan from the bound
WeChat signs a waiting browser in, once; an unbound WeChat or a spent code signs nobody in."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ConsoleUser
from tests.console.conftest import sign_in
from tests.official_account.conftest import simulator
from wechat_sandbox.server import serve_in_thread


@pytest.fixture
def follower(app, sandbox):
    server = serve_in_thread(app)
    with simulator(app, server, sandbox) as sim:
        yield sim
    server.stop()


def _nonce(client, key: str) -> str:
    with client.session_transaction() as session:
        return session[key]


def test_bind_then_scan_to_login(app, client, make_user, shops, follower):
    make_user("boss", "owner")
    sign_in(client, "boss")
    page = client.get("/console/wechat/bind")
    assert page.status_code == 200 and client.get("/console/wechat/bind-qr").data.startswith(b"\xff\xd8")
    reply = follower.subscribe("o-boss", "login_" + _nonce(client, "bind_nonce")).reply["Content"]
    assert "已绑定" in reply
    db.session.commit()  # the client shares this test's session: end its MariaDB snapshot to see the callback's rows
    assert client.get("/console/wechat/bind/status").get_json()["signed_in"] is True
    db.session.commit()
    assert db.session.scalar(db.select(ConsoleUser.wechat_openid)) == "o-boss"

    browser = app.test_client()
    assert browser.get("/console/login/scan").status_code == 200
    assert browser.get("/console/login/scan-qr").data.startswith(b"\xff\xd8")
    assert browser.get("/console/login/scan/status").get_json() == {"signed_in": False}
    scene = "login_" + _nonce(browser, "scan_nonce")
    assert "已确认登录" in follower.scan("o-boss", scene).reply["Content"]
    db.session.commit()
    status = browser.get("/console/login/scan/status").get_json()
    assert status["signed_in"] is True
    assert browser.get("/console/today").status_code == 200
    # The code is spent: another scan of it confirms nothing, and the browser's session holds no second login.
    assert "已失效" in follower.scan("o-someone-else", scene).reply["Content"]


def test_unbound_wechat_signs_nobody_in(app, client, make_user, shops, follower):
    make_user("boss", "owner")
    client.get("/console/login/scan")
    reply = follower.subscribe("o-stranger", "login_" + _nonce(client, "scan_nonce")).reply["Content"]
    assert "还没有绑定" in reply
    assert client.get("/console/login/scan/status").get_json() == {"signed_in": False}
    assert client.get("/console/today").status_code == 302
    assert "已失效" in follower.scan("o-stranger", "login_not-a-real-nonce").reply["Content"]
