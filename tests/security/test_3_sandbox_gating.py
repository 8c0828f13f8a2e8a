"""Finding 3: the sandbox runs only when asked for, real-looking credentials with it on refuse to start, and
`check-config` fails unless MICROMALL_ENV=production."""
import pytest

from app import create_app
from app.checks import run_checks
from app.config import ConfigError
from app.extensions import db

REAL = {"MINIPROGRAM_APPID": "wx1234567890abcdef", "MINIPROGRAM_SECRET": "0123456789abcdef0123456789abcdef"}


@pytest.fixture(autouse=True)
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROMALL_INSTANCE_PATH", str(tmp_path))


def test_unset_environment_with_real_credentials_does_not_mount_the_sandbox():
    app = create_app(environ=REAL)
    assert app.config["WECHAT_SANDBOX"] is False
    assert "wechat_sandbox" not in app.extensions
    assert app.config["WECHAT_API_BASE_URL"] == "https://api.weixin.qq.com"
    assert app.test_client().get("/__sandbox__/sandbox/records").status_code == 404


def test_development_on_a_public_address_does_not_default_to_the_sandbox():
    assert create_app(environ={"PUBLIC_BASE_URL": "https://shop.example.com"}).config["WECHAT_SANDBOX"] is False


def test_development_on_loopback_without_real_ids_still_gets_the_sandbox():
    app = create_app(environ={})
    assert app.config["WECHAT_SANDBOX"] is True and "wechat_sandbox" in app.extensions


def test_the_sandbox_with_real_looking_credentials_refuses_to_start_with_one_line():
    with pytest.raises(ConfigError) as info:
        create_app(environ={**REAL, "WECHAT_SANDBOX": "1", "WECHATPAY_MCHID": "1600000001"})
    assert len(info.value.problems) == 1
    line = info.value.problems[0]
    assert line.startswith("WECHAT_SANDBOX=1") and "MINIPROGRAM_APPID" in line and "WECHATPAY_MCHID" in line


def test_check_config_fails_outside_production(app_config, backend):
    app = create_app({**app_config, "WECHAT_SANDBOX": False})
    with app.app_context():
        db.create_all()
        checks = {c.name: c for c in run_checks(app)}
    assert not checks["environment"].ok and "MICROMALL_ENV=production" in checks["environment"].detail
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 1 and "FAIL  environment" in result.output
