"""Liveness and readiness."""
from app import create_app


def test_healthz_and_readyz(client, backend):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if backend == "mariadb" else "not configured")


def test_readyz_is_degraded_without_redis_and_503_without_the_database(app_config, tmp_path):
    broken = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "degraded"
    assert response.get_json()["checks"]["redis"].startswith("degraded")
    no_db = create_app({**app_config, "DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/none"})
    response = no_db.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["database"].startswith("error")
