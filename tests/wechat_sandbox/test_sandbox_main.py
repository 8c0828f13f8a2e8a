"""`python -m wechat_sandbox` settings, and the records the control endpoint lists."""
from __future__ import annotations

import pytest
from sandbox_support import MP_APPID

from wechat_sandbox.__main__ import DEFAULT_APPS, settings_from_env


def test_defaults_need_no_environment():
    settings = settings_from_env({})
    assert settings.apps == DEFAULT_APPS
    assert settings.official_account_appid in DEFAULT_APPS
    assert settings.official_account_aes_key is None
    assert settings.access_token_ttl_s == 7200


def test_environment_overrides(tmp_path):
    key = tmp_path / "merchant.pem"
    key.write_bytes(b"-----BEGIN PUBLIC KEY-----\n")
    settings = settings_from_env({
        "SANDBOX_APPS": "wxa:one, wxb:two",
        "SANDBOX_OFFICIAL_ACCOUNT_APPID": "wxb",
        "SANDBOX_OFFICIAL_ACCOUNT_AES_KEY": "k" * 43,
        "SANDBOX_ACCESS_TOKEN_TTL_S": "60",
        "SANDBOX_MERCHANT_PUBLIC_KEY_PATH": str(key),
    })
    assert settings.apps == {"wxa": "one", "wxb": "two"}
    assert settings.official_account_appid == "wxb"
    assert settings.official_account_aes_key == "k" * 43
    assert settings.access_token_ttl_s == 60
    assert settings.merchant_public_key_pem == b"-----BEGIN PUBLIC KEY-----\n"
    assert settings_from_env({"SANDBOX_APPS": "wxa:one"}).official_account_appid == ""


def test_malformed_apps_are_refused():
    with pytest.raises(SystemExit):
        settings_from_env({"SANDBOX_APPS": "wxa-without-secret"})


def test_records_list_every_call_without_credentials(sandbox):
    sandbox.call("/wxa/business/getuserphonenumber", {"code": "nonsense"})
    (token_record,) = sandbox.records("cgi-bin/token")
    assert token_record["payload"] == {"grant_type": "client_credential", "appid": MP_APPID}
    (phone_record,) = sandbox.records("wxa/business/getuserphonenumber")
    assert phone_record["payload"] == {"code": "nonsense"} and phone_record["at"] > 0
    everything = sandbox.http.get(sandbox.url("/sandbox/records")).json()["items"]
    assert [r["kind"] for r in everything] == ["cgi-bin/token", "wxa/business/getuserphonenumber"]
    assert sandbox.http.get(sandbox.url("/sandbox/health")).json()["ok"] is True
