"""Login through the sandbox over real HTTP; tokens; the WeChat access token shared through Redis."""
import requests

from app import create_app, wechat
from app.extensions import db
from app.models import Customer, CustomerSession
from tests import factories
from tests.conftest import mariadb_only


def sandbox_records(sandbox, kind):
    return requests.get(f"{sandbox.base_url}/sandbox/records", params={"kind": kind}, timeout=5).json()["items"]


def test_login_creates_the_customer_and_keeps_no_session_key(client, app_ctx, sandbox):
    response = client.post("/api/v1/auth/login", json={"code": "sandbox-alice"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_in", "customer"}
    assert body["expires_in"] == app_ctx.config["LOGIN_TOKEN_TTL_S"]
    session = db.session.query(CustomerSession).one()
    assert not hasattr(session, "session_key")  # not stored at all (issue 11)
    assert session.token_hash != body["token"]  # only the hash is stored
    customer = db.session.query(Customer).one()
    # The sandbox, like WeChat, gives no unionid unless the apps share an Open Platform account.
    assert customer.openid == "alice" and customer.unionid is None
    # code2session went over HTTP to the sandbox
    assert [r["payload"]["js_code"] for r in sandbox_records(sandbox, "sns/jscode2session")] == ["sandbox-alice"]


def test_session_key_never_leaves_the_server(client, app_ctx):
    headers = factories.login(client)
    store_id = factories.store()
    factories.product(stock={store_id: 3})
    responses = [
        client.get("/api/v1/me", headers=headers),
        client.post("/api/v1/me/phone", json={"code": "sandbox-phone-13800138000"}, headers=headers),
        client.get("/api/v1/stores"),
        client.get(f"/api/v1/cart?store_id={store_id}", headers=headers),
        client.get("/api/v1/orders", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200
        assert "session_key" not in response.get_data(as_text=True)


def test_logging_in_again_is_the_same_customer(client, app_ctx):
    factories.login(client, "bob")
    factories.login(client, "bob")
    assert db.session.query(Customer).count() == 1
    assert db.session.query(CustomerSession).count() == 2


def test_a_used_or_unknown_code_is_refused(client):
    assert client.post("/api/v1/auth/login", json={"code": "sandbox-carol"}).status_code == 200
    again = client.post("/api/v1/auth/login", json={"code": "sandbox-carol"})
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "invalid_login_code"
    assert client.post("/api/v1/auth/login", json={"code": "nonsense"}).status_code == 401


def test_bad_and_expired_tokens_are_401(client, app_ctx):
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    headers = factories.login(client)
    session = db.session.query(CustomerSession).one()
    session.expires_at = session.created_at
    db.session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"


def test_phone_binding(client, app_ctx):
    headers = factories.login(client)
    response = client.post("/api/v1/me/phone", json={"code": "sandbox-phone-13800138000"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["phone"] == "138****8000"
    assert db.session.query(Customer).one().phone.endswith("13800138000")
    bad = client.post("/api/v1/me/phone", json={"code": "wrong"}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_phone_code"


@mariadb_only
def test_access_token_is_shared_through_redis_and_refreshed_after_40001(app_config, sandbox):
    """Two app instances (two processes in production) share one token; after WeChat revokes it (40001) the next
    call fetches one new token and succeeds."""
    first, second = create_app(app_config), create_app(app_config)
    with first.app_context():
        first.extensions["micromall_redis"].flushdb()
        assert wechat.api("miniprogram").phone_number("sandbox-phone-13800000001")
    with second.app_context():
        assert wechat.api("miniprogram").phone_number("sandbox-phone-13800000002")
    assert len(sandbox_records(sandbox, "cgi-bin/stable_token")) == 1  # the second process reused the first's token
    requests.post(f"{sandbox.base_url}/sandbox/tokens/revoke", json={}, timeout=5).raise_for_status()
    with second.app_context():
        assert wechat.api("miniprogram").phone_number("sandbox-phone-13800000003")
    with first.app_context():
        assert wechat.api("miniprogram").phone_number("sandbox-phone-13800000004")
    assert len(sandbox_records(sandbox, "cgi-bin/stable_token")) == 2  # one refresh, then shared again


def test_unionid_is_kept_when_the_apps_share_an_open_platform_account(client, app_ctx, sandbox):
    requests.post(f"{sandbox.base_url}/sandbox/open-platform", json={"bound": True}, timeout=5).raise_for_status()
    assert client.post("/api/v1/auth/login", json={"code": "sandbox-dora"}).status_code == 200
    assert db.session.query(Customer).one().unionid == "sandbox-union-dora"


def _fail_login(sandbox, errcode):
    requests.post(f"{sandbox.base_url}/sandbox/failures", json={"path": "sns/jscode2session", "errcode": errcode},
                  timeout=5).raise_for_status()


def test_login_rate_limited_by_wechat_is_429_with_retry_after(client, sandbox):
    _fail_login(sandbox, 45011)
    response = client.post("/api/v1/auth/login", json={"code": "sandbox-erin"})
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_login_of_a_user_blocked_by_wechat_risk_control_is_403(client, sandbox):
    _fail_login(sandbox, 40226)
    response = client.post("/api/v1/auth/login", json={"code": "sandbox-fred"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "login_blocked_by_wechat" and "risk" in error["message"]
