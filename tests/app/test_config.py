"""Configuration: defaults in one place; production refuses each unsafe setting with one line saying what to set."""
import subprocess
import sys

import pytest

from app import create_app
from app.config import ConfigError

GOOD_PRODUCTION = {
    "MICROMALL_ENV": "production",
    "SECRET_KEY": "q7Vd2LxN9sKp4TgW8mZr1HcY6bFj3QeA5uXo0Ri",  # random: production refuses low entropy
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "WECHAT_SANDBOX": "0",
    "DATABASE_URL": "mysql+pymysql://u:p@127.0.0.1/micromall",
    "MINIPROGRAM_APPID": "wx1234567890abcdef", "MINIPROGRAM_SECRET": "s",
    "WECHATPAY_MCHID": "1900000001", "WECHATPAY_APIV3_KEY": "k" * 32,
    "WECHATPAY_PRIVATE_KEY_PATH": "/etc/micromall/apiclient_key.pem", "WECHATPAY_MERCHANT_SERIAL_NO": "ABC",
    "WECHATPAY_PUBLIC_KEY_PATH": "/etc/micromall/pub_key.pem", "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_1",
}


def refusal(**changes):
    environ = {k: v for k, v in {**GOOD_PRODUCTION, **changes}.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        create_app(environ=environ)
    return info.value.problems


def test_a_complete_production_environment_starts():
    app = create_app(environ=GOOD_PRODUCTION)
    assert app.config["WECHAT_API_BASE_URL"] == "https://api.weixin.qq.com"
    assert app.config["WECHATPAY_API_BASE_URL"] == "https://api.mch.weixin.qq.com"
    assert "wechat_sandbox" not in app.extensions


@pytest.mark.parametrize("changes, says", [
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"REDIS_URL": None}, "REDIS_URL"),
    ({"WECHAT_SANDBOX": "1"}, "WECHAT_SANDBOX=1"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
])
def test_production_refuses_each_unsafe_setting_with_one_line(changes, says):
    problems = refusal(**changes)
    assert len(problems) == 1, problems
    assert problems[0].startswith(says) and "set" in problems[0]


def test_every_problem_is_listed_at_once():
    problems = refusal(SECRET_KEY=None, REDIS_URL=None, WECHAT_SANDBOX="1", DATABASE_URL=None)
    assert len(problems) == 4


def test_bad_numbers_are_refused_in_any_environment():
    with pytest.raises(ConfigError, match="ORDER_PAYMENT_TIMEOUT_S"):
        create_app(environ={"ORDER_PAYMENT_TIMEOUT_S": "soon"})


def test_development_defaults_to_sqlite_sandbox_and_no_redis(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROMALL_INSTANCE_PATH", str(tmp_path))
    app = create_app(environ={})
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["WECHAT_SANDBOX"] is True
    assert app.config["WECHAT_API_BASE_URL"].endswith("/__sandbox__")
    assert app.extensions["micromall_redis"] is None
    assert len(app.config["SECRET_KEY"]) >= 32
    # development pay keys are generated into the instance folder, never shipped
    assert app.config["WECHATPAY_PRIVATE_KEY_PATH"].startswith(str(tmp_path))


def test_the_command_line_prints_the_refusal_and_exits_non_zero():
    env = {"PATH": "/usr/bin:/bin", **{k: v for k, v in GOOD_PRODUCTION.items() if k != "REDIS_URL"}}
    result = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "config"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "REDIS_URL is not set" in result.stderr
