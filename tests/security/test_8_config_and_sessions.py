"""Finding 8: `micromall config` masks passwords in URLs; production refuses a low-entropy SECRET_KEY; WeChat's
session_key is not stored; consumers and staff can log out."""
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from app import create_app
from app.config import ConfigError
from app.extensions import db
from tests import factories
from tests.app.test_config import GOOD_PRODUCTION


def test_config_masks_database_and_redis_passwords(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MICROMALL_INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path}/x.db?user=u", "REDIS_URL": "redis://:hunter2-redis@127.0.0.1:1/0",
           "MICROMALL_ENV": "testing", "WECHAT_SANDBOX": "0", "SECRET_KEY": "k" * 40}
    env["DATABASE_URL"] = "mysql+pymysql://shop:hunter2-db@127.0.0.1:1/micromall?charset=utf8mb4"
    result = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "config"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "DATABASE_URL=mysql+pymysql://shop:****@127.0.0.1:1/micromall?charset=utf8mb4" in result.stdout
    assert "REDIS_URL=redis://:****@127.0.0.1:1/0" in result.stdout


@pytest.mark.parametrize("key", [" " * 32, "x" * 40, "ab" * 20, "0123456789" * 4])
def test_production_refuses_a_secret_key_with_little_entropy_and_says_why(key):
    with pytest.raises(ConfigError) as info:
        create_app(environ={**GOOD_PRODUCTION, "SECRET_KEY": key})
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("SECRET_KEY") and "entropy" in info.value.problems[0]


def test_session_key_is_not_stored(client, app_ctx):
    factories.login(client)
    columns = {c["name"] for c in inspect(db.engine).get_columns("customer_sessions")}
    assert "session_key" not in columns


def test_a_consumer_logs_out_and_the_token_stops_working(client, app_ctx):
    headers = factories.login(client)
    other = factories.login(client)  # another device of the same person keeps its session
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_staff_log_out(client, app_ctx, shop, staff_member):
    staff = staff_member(shop.store_id)
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 200
    assert client.post("/api/v1/staff/auth/logout", headers=staff.headers).status_code == 204
    assert client.get("/api/v1/staff/pickups", headers=staff.headers).status_code == 401
