"""Access tokens, mini-program login and phone numbers, over HTTP and through wechatpy."""
from __future__ import annotations

import base64
import time

import pytest
from wechatpy.exceptions import WeChatClientException

from sandbox_support import MP_APPID, MP_SECRET, OA_APPID, STAFF_APPID


def get_token(sandbox, **params):
    query = {"grant_type": "client_credential", "appid": MP_APPID, "secret": MP_SECRET, **params}
    return sandbox.http.get(sandbox.url("/cgi-bin/token"), params=query)


def test_token_is_issued_with_its_lifetime(sandbox):
    response = get_token(sandbox)
    body = response.json()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200
    assert len(body["access_token"]) > 100


@pytest.mark.parametrize("params, errcode", [
    ({"appid": "wx0000000000000000"}, 40013),
    ({"secret": "wrong"}, 40125),
    ({"grant_type": "authorization_code"}, 40002),
    ({"appid": ""}, 41002),
    ({"secret": ""}, 41004),
])
def test_token_errors(sandbox, params, errcode):
    body = get_token(sandbox, **params).json()
    assert body["errcode"] == errcode
    assert " rid: " in body["errmsg"]


def test_token_checks_on_api_calls(sandbox):
    url = sandbox.url("/cgi-bin/user/info")
    assert sandbox.http.get(url, params={"openid": "x"}).json()["errcode"] == 41001
    assert sandbox.http.get(url, params={"openid": "x", "access_token": "forged"}).json()["errcode"] == 40001
    token = sandbox.token(OA_APPID)
    sandbox.control("tokens/expire", {"appid": OA_APPID})
    body = sandbox.http.get(url, params={"openid": "x", "access_token": token}).json()
    assert body == {"errcode": 42001, "errmsg": body["errmsg"]}
    assert body["errmsg"].startswith("access_token expired")


def test_previous_token_stays_valid_for_five_minutes(sandbox):
    first = sandbox.token(OA_APPID)
    second = sandbox.token(OA_APPID)
    tokens = sandbox.app.extensions["sandbox_state"].area("weixin")["tokens"]
    assert tokens[first]["expires_at"] <= time.time() + 300
    assert tokens[second]["expires_at"] > time.time() + 7000
    for token in (first, second):
        body = sandbox.http.get(sandbox.url("/cgi-bin/user/info"),
                                params={"openid": "someone", "access_token": token}).json()
        assert body == {"subscribe": 0, "openid": "someone"}


def test_token_of_the_wrong_kind_of_app_is_unauthorized(sandbox):
    assert sandbox.call("/cgi-bin/user/info", appid=MP_APPID, openid="x")["errcode"] == 48001
    assert sandbox.call("/wxa/business/getuserphonenumber", {"code": "sandbox-phone-13800138000"},
                        appid=OA_APPID)["errcode"] == 48001


def test_wrong_method_is_refused(sandbox):
    token = sandbox.token()
    body = sandbox.http.get(sandbox.url("/cgi-bin/message/subscribe/send"), params={"access_token": token}).json()
    assert body["errcode"] == 43002


@pytest.mark.parametrize("control", ["tokens/expire", "tokens/revoke"])
def test_wechatpy_refreshes_an_expired_or_revoked_token(sandbox, wechat_client, control):
    client = wechat_client(OA_APPID)
    assert client.user.get("oa-bob")["subscribe"] == 0
    sandbox.control(control, {"appid": OA_APPID})
    assert client.user.get("oa-bob")["subscribe"] == 0  # 42001/40001, a new token, the retry
    assert len(sandbox.records("cgi-bin/token")) == 2
    assert len(sandbox.records("cgi-bin/user/info")) == 3


def test_code2session_logs_in_as_the_openid_in_the_code(sandbox, wechat_client):
    client = wechat_client(MP_APPID)
    session = client.wxa.code_to_session("sandbox-alice")
    assert session["openid"] == "alice"
    assert "unionid" not in session  # no Open Platform binding: WeChat sends no unionid
    sandbox.control("open-platform", {"bound": True})
    session = client.wxa.code_to_session("sandbox-alice.first")
    assert session["unionid"] == "sandbox-union-alice"
    assert len(base64.b64decode(session["session_key"])) == 16
    again = client.wxa.code_to_session("sandbox-alice.second-login")
    assert again["openid"] == "alice" and again["unionid"] == "sandbox-union-alice"
    assert again["session_key"] != session["session_key"]


@pytest.mark.parametrize("code", ["sandbox-alice", "0a1b2c3d", "sandbox-", "sandbox-al!ce", "sandbox-" + "a" * 65])
def test_code2session_refuses_used_and_unknown_codes(sandbox, wechat_client, code):
    client = wechat_client(MP_APPID)
    if code == "sandbox-alice":
        client.wxa.code_to_session(code)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session(code)
    assert error.value.errcode == 40029


def test_code2session_checks_the_app(sandbox):
    params = {"appid": MP_APPID, "secret": "wrong", "js_code": "sandbox-alice", "grant_type": "authorization_code"}
    assert sandbox.http.get(sandbox.url("/sns/jscode2session"), params=params).json()["errcode"] == 40125
    # The code was not spent by the failed call.
    params["secret"] = MP_SECRET
    assert sandbox.http.get(sandbox.url("/sns/jscode2session"), params=params).json()["openid"] == "alice"


def test_registered_person_has_one_unionid_across_apps(sandbox, wechat_client):
    sandbox.control("open-platform", {"bound": True})
    sandbox.control("people", {"unionid": "union-carol", "miniprogram_openid": "mp-carol",
                               "openids": ["staff-carol"]})
    assert wechat_client(MP_APPID).wxa.code_to_session("sandbox-mp-carol")["unionid"] == "union-carol"
    assert wechat_client(STAFF_APPID).wxa.code_to_session("sandbox-staff-carol")["unionid"] == "union-carol"


def test_phone_number(sandbox):
    body = sandbox.call("/wxa/business/getuserphonenumber", {"code": "sandbox-phone-13800138000"})
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    info = body["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == MP_APPID
    assert abs(info["watermark"]["timestamp"] - time.time()) < 5
    reused = sandbox.call("/wxa/business/getuserphonenumber", {"code": "sandbox-phone-13800138000"})
    assert reused["errcode"] == 40029
    assert sandbox.call("/wxa/business/getuserphonenumber", {"code": "sandbox-phone-13800138000.2"})["errcode"] == 0
    assert sandbox.call("/wxa/business/getuserphonenumber", {"code": "nonsense"})["errcode"] == 40029
    assert sandbox.call("/wxa/business/getuserphonenumber", {})["errcode"] == 41008


def test_body_problems(sandbox):
    token = sandbox.token()
    url = sandbox.url("/wxa/business/getuserphonenumber")
    empty = sandbox.http.post(url, params={"access_token": token}, data=b"").json()
    broken = sandbox.http.post(url, params={"access_token": token}, data=b"{code:").json()
    assert (empty["errcode"], broken["errcode"]) == (44002, 47001)
    assert sandbox.records("wxa/business/getuserphonenumber")[-1]["payload"] == "{code:"


def test_failure_injection_then_recovery(sandbox, wechat_client):
    sandbox.control("failures", {"path": "/sns/jscode2session", "errcode": -1, "times": 2})
    client = wechat_client(MP_APPID)
    for _ in range(2):
        with pytest.raises(WeChatClientException) as error:
            client.wxa.code_to_session("sandbox-dave")
        assert error.value.errcode == -1
    assert client.wxa.code_to_session("sandbox-dave")["openid"] == "dave"
    assert len(sandbox.records("sns/jscode2session")) == 3


def test_failure_injection_with_an_http_error(sandbox, wechat_client):
    sandbox.control("failures", {"path": "cgi-bin/token", "errcode": -1, "http_status": 503})
    with pytest.raises(WeChatClientException) as error:
        wechat_client(MP_APPID).fetch_access_token()
    assert error.value.response.status_code == 503
    assert get_token(sandbox).status_code == 200


def stable_token(sandbox, **change):
    body = {"grant_type": "client_credential", "appid": MP_APPID, "secret": MP_SECRET, **change}
    return sandbox.http.post(sandbox.url("/cgi-bin/stable_token"), json=body).json()


def test_stable_token_is_the_same_for_every_caller_while_valid(sandbox):
    first, second = stable_token(sandbox), stable_token(sandbox)
    assert first["access_token"] == second["access_token"] and 7190 <= second["expires_in"] <= 7200
    # Isolated from /cgi-bin/token: a token from there does not invalidate the stable one.
    sandbox.token(MP_APPID)
    assert sandbox.call("/wxa/business/getuserphonenumber", {"code": "sandbox-phone-13800000001"})["errcode"] == 0
    url = sandbox.url("/wxa/business/getuserphonenumber")
    used = sandbox.http.post(url, params={"access_token": first["access_token"]},
                             json={"code": "sandbox-phone-13800000002"}).json()
    assert used["errcode"] == 0
    # In its last five minutes WeChat hands out a new token; the old one stays valid until it expires.
    tokens = sandbox.app.extensions["sandbox_state"].area("weixin")["tokens"]
    tokens[first["access_token"]]["expires_at"] = time.time() + 200
    renewed = stable_token(sandbox)
    assert renewed["access_token"] != first["access_token"] and renewed["expires_in"] == 7200
    assert first["access_token"] in tokens
    assert "secret" not in sandbox.records("cgi-bin/stable_token")[0]["payload"]


def test_stable_token_force_refresh_invalidates_and_is_limited(sandbox):
    first = stable_token(sandbox)
    forced = stable_token(sandbox, force_refresh=True)
    assert forced["access_token"] != first["access_token"]
    url = sandbox.url("/wxa/business/getuserphonenumber")
    old = sandbox.http.post(url, params={"access_token": first["access_token"]}, json={"code": "x"}).json()
    assert old["errcode"] == 40001
    assert stable_token(sandbox, force_refresh=True)["errcode"] == 45009  # 30 s apart at least
    assert stable_token(sandbox)["access_token"] == forced["access_token"]
    assert stable_token(sandbox, force_refresh="yes")["errcode"] == 47001
    assert stable_token(sandbox, secret="wrong")["errcode"] == 40125
    get = sandbox.http.get(sandbox.url("/cgi-bin/stable_token")).json()
    assert get["errcode"] == 43002  # POST only


def test_cgi_bin_token_has_a_daily_quota(sandbox):
    sandbox.app.config["SANDBOX_SETTINGS"].token_daily_quota = 3
    try:
        for _ in range(3):
            assert "access_token" in get_token(sandbox).json()
        body = get_token(sandbox).json()
        assert body["errcode"] == 45009 and body["errmsg"].startswith("reach max api daily quota limit")
    finally:
        sandbox.app.config["SANDBOX_SETTINGS"].token_daily_quota = 2000
