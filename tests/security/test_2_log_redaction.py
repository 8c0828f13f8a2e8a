"""Finding 2: with WeChat unreachable, every outbound path, in the web process and in the worker, leaves no secret,
access token, js_code or signature in any log output (ours, wechatpy's, requests', RQ's, the development server's)."""
import logging
import re
import time

import pytest
import requests
from rq import SimpleWorker

from app import jobs
from app.redaction import redact
from tests import factories
from tests.official_account.conftest import CALLBACK
from wechat_sandbox.follower import FollowerSimulator
from wechat_sandbox.server import serve_in_thread

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, every call fails at once
LEAKS = re.compile(r"(?i)(?<![A-Za-z0-9_-])(secret|access_token|js_code|session_key|signature|msg_signature)"
                   r"=(?!\*\*\*)[^&\s\"'<>]+")


@pytest.fixture
def unreachable(app_config):
    app_config.update(WECHAT_API_BASE_URL=UNREACHABLE, WECHATPAY_API_BASE_URL=UNREACHABLE)
    return app_config


def secrets_of(config) -> list[str]:
    return [config[name] for name in ("MINIPROGRAM_SECRET", "STAFF_MINIPROGRAM_SECRET", "OFFICIAL_ACCOUNT_SECRET",
                                      "OFFICIAL_ACCOUNT_TOKEN", "OFFICIAL_ACCOUNT_AES_KEY", "WECHATPAY_APIV3_KEY",
                                      "SECRET_KEY") if config.get(name)]


def assert_nothing_leaked(text: str, config) -> None:
    assert text.strip(), "the paths under test logged nothing at all"
    for value in secrets_of(config):
        assert value not in text, f"a configured secret reached the logs: {value[:4]}…"
    leak = LEAKS.search(text)
    assert leak is None, f"logged in clear: {leak.group(0)[:40]}"
    assert "sandbox-secret-login" not in text  # the js_code sent


def test_every_outbound_path_with_wechat_unreachable_logs_no_secret(unreachable, request, caplog, capfd, sandbox):
    caplog.set_level(logging.DEBUG)
    app, client = request.getfixturevalue("app_ctx"), request.getfixturevalue("client")
    shop, paid_order = request.getfixturevalue("shop"), request.getfixturevalue("paid_order")
    staff_member = request.getfixturevalue("staff_member")
    config = app.config
    server = serve_in_thread(app)  # the development server, whose access log is checked too
    try:
        base = server.base_url
        # web process: login (code2session), phone, prepay, and the official-account callback (user/info)
        assert requests.post(f"{base}/api/v1/auth/login", json={"code": "sandbox-secret-login"},
                             timeout=10).status_code == 503
        app.config["WECHAT_API_BASE_URL"] = sandbox.base_url  # log in for real, then lose WeChat again
        app.extensions["micromall_wechat_apis"].clear()
        headers = factories.login(client, "alice")
        staff = staff_member(shop.store_id)
        paid = paid_order(shop, "alice")  # enqueues the "paid" notification: it runs with WeChat unreachable
        app.config["WECHAT_API_BASE_URL"] = UNREACHABLE
        app.extensions["micromall_wechat_apis"].clear()
        assert requests.post(f"{base}/api/v1/me/phone", json={"code": "phone-code-secret"},
                             headers=headers, timeout=10).status_code == 503
        order = client.post("/api/v1/orders", headers=headers,
                            json={"store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}]})
        assert requests.post(f"{base}/api/v1/orders/{order.get_json()['order_no']}/pay", headers=headers,
                             timeout=10).status_code >= 500
        sim = FollowerSimulator(base + CALLBACK, config["OFFICIAL_ACCOUNT_TOKEN"], config["OFFICIAL_ACCOUNT_APPID"],
                                config["OFFICIAL_ACCOUNT_AES_KEY"])
        with sim:
            assert sim.subscribe("o-unreachable").status == 200  # user/info fails: logged, and a job queued
            assert sim.send_text("o-unreachable", "订单").status == 200
        assert client.post(f"/api/v1/staff/orders/{paid.order_no}/ready", headers=staff.headers).status_code == 200
        # the worker: every job the above queued, run by RQ (with Redis) or already run in-process (without)
        redis = app.extensions["micromall_redis"]
        if redis is not None:
            SimpleWorker([jobs.queue(app)], connection=redis).work(burst=True)
        time.sleep(0.05)
    finally:
        server.stop()
    out, err = capfd.readouterr()
    assert_nothing_leaked(caplog.text + out + err, config)
    assert "***" in caplog.text + out + err  # something was there to mask, and it was masked


def test_redaction_of_each_shape():
    for raw, kept in [
        ("/sns/jscode2session?appid=wx1&secret=S3CR3T&js_code=C0DE&grant_type=authorization_code", "appid=wx1"),
        ("url: /cgi-bin/user/info?access_token=T0K3N&openid=o1", "openid=o1"),
        ('{"access_token": "T0K3N", "expires_in": 7200}', '"expires_in": 7200'),
        ("{'session_key': 'S3CR3T', 'openid': 'o1'}", "'openid': 'o1'"),
        ('Authorization: WECHATPAY2-SHA256-RSA2048 mchid="1",signature="S1GN"', "Authorization"),
        ("headers={'Authorization': 'Bearer T0K3N'}", "headers"),
        ("/wechat/official-account?signature=S1GN&timestamp=1&nonce=2&msg_signature=S1GN", "timestamp=1"),
        ("errcode=40029, code=123456789012", "errcode=40029"),
    ]:
        clean = redact(raw)
        assert kept in clean
        for secret in ("S3CR3T", "C0DE", "T0K3N", "S1GN", "123456789012"):
            assert secret not in clean, (raw, clean)
