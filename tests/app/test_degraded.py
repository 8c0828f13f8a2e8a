"""Degraded, not down: without Redis the product list comes from the database, rate limits count per process and
/readyz says "degraded" (200); a database or Redis failure answers 503 with Retry-After in the API envelope, and
{"code": "FAIL", "message"} on WeChat Pay's notify endpoints."""
import logging

from sqlalchemy.exc import OperationalError

from app import create_app, ratelimit
from tests import factories
from tests.conftest import sqlite_only

DEAD_REDIS = "redis://127.0.0.1:1/0"


@sqlite_only
def test_without_redis_the_product_list_and_rate_limits_still_work(app, app_config, caplog):
    app = create_app({**app_config, "REDIS_URL": DEAD_REDIS})
    with app.app_context():
        store_id = factories.store()
        factories.product("拿铁", stock={store_id: 3})
    caplog.set_level(logging.WARNING)
    response = app.test_client().get(f"/api/v1/stores/{store_id}/products")
    assert response.status_code == 200 and response.get_json()["items"][0]["skus"][0]["stock"] == 3
    assert any("catalog cache unavailable" in r.getMessage() for r in caplog.records)
    with app.test_request_context():
        limits = (ratelimit.Limit("test:seat", 2, 60),)
        ticket = ratelimit.take(limits)
        ratelimit.give_back(limits, ticket)
        ratelimit.take(limits)
        ratelimit.take(limits)
        try:
            ratelimit.take(limits)
            raise AssertionError("the per-process limit did not hold")
        except ratelimit.RateLimited as exc:
            assert exc.status == 429
    assert any("rate limits per process" in r.getMessage() for r in caplog.records)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"


@sqlite_only
def test_a_database_failure_is_a_503_with_retry_after(app_config):
    app = create_app({**app_config, "DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/none"})
    response = app.test_client().get("/api/v1/stores?lat=31.2&lng=121.4")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert app.test_client().get("/healthz").status_code == 200


@sqlite_only
def test_the_notify_endpoints_answer_wechat_pays_fail_shape(app_config, monkeypatch):
    import payments.notify_views as views

    def database_gone():
        raise OperationalError("SELECT 1", {}, Exception("gone"))

    monkeypatch.setattr(views, "_parse", database_gone)
    app = create_app(app_config)
    for path in ("/payments/wechatpay/notify", "/payments/wechatpay/refund-notify"):
        response = app.test_client().post(path, data=b"{}", content_type="application/json")
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert set(response.get_json()) == {"code", "message"} and response.get_json()["code"] == "FAIL"


@sqlite_only
def test_a_rollback_failing_at_the_end_of_a_request_does_not_turn_the_answer_into_a_500(app, monkeypatch):
    from app.extensions import db

    real_remove, calls = db.session.remove, []

    def remove_on_a_frozen_database():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("ROLLBACK", {}, Exception("Lost connection to MySQL server during query"))
        real_remove()

    monkeypatch.setattr(db.session, "remove", remove_on_a_frozen_database)
    assert app.test_client().get("/healthz").status_code == 200
    assert len(calls) >= 2
