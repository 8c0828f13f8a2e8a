"""One JSON line per request with its id, route, status, duration and caller; never tokens, codes or phones; the
request id returned to the client and carried into the jobs the request enqueued."""
import json
import logging
from datetime import timedelta

from app import jobs
from app.extensions import db
from app.models import Payment, utcnow
from app.logs import JsonFormatter
from app.models import OutboxJob
from tests import factories
from tests.conftest import mariadb_only


def request_lines(caplog):
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "micromall.request"]


def test_one_json_line_per_request_without_secrets(client, app_ctx, caplog):
    caplog.set_level(logging.INFO, logger="micromall.request")
    headers = factories.login(client)
    caplog.clear()
    response = client.post("/api/v1/me/phone", json={"code": "sandbox-phone-13800138000"},
                           headers={**headers, "X-Request-Id": "req-abcdef123"})
    assert response.headers["X-Request-Id"] == "req-abcdef123"
    [line] = request_lines(caplog)
    assert line["request_id"] == "req-abcdef123" and line["route"] == "/api/v1/me/phone"
    assert line["status"] == 200 and line["duration_ms"] >= 0 and isinstance(line["customer_id"], int)
    text = json.dumps(line, ensure_ascii=False)
    token = headers["Authorization"].split()[1]
    assert token not in text and "13800138000" not in text and "sandbox-phone" not in text


def test_a_bad_incoming_request_id_is_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="micromall.request")
    response = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces <script>"})
    assert len(response.headers["X-Request-Id"]) == 32
    assert request_lines(caplog)[-1]["request_id"] == response.headers["X-Request-Id"]


@mariadb_only
def test_the_request_id_is_carried_into_enqueued_jobs(client, app_ctx):
    store_id = factories.store()
    made = factories.product(stock={store_id: 5})
    headers = factories.login(client)
    order_no = client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 1}]}).get_json()["order_no"]
    client.post(f"/api/v1/orders/{order_no}/pay", headers=headers)
    # WeChat orders are closed no sooner than 5 minutes after they were created: this one is old enough.
    db.session.query(Payment).update({"created_at": utcnow() - timedelta(minutes=6)})
    db.session.commit()
    client.post(f"/api/v1/orders/{order_no}/cancel", headers={**headers, "X-Request-Id": "cancel-req-001"})
    [row] = db.session.query(OutboxJob).all()  # the job's row carries the request id into the job's log lines
    assert row.target == "app.payments.reconciliation:close_at_wechat"
    assert row.request_id == "cancel-req-001"
    assert len(jobs.queue().get_jobs()) == 1


def test_the_request_line_written_directly_matches_the_records(client, app_ctx, caplog):
    """As served (one JSON stream handler on the root, init_app's), the line is formatted once and written without
    a record (app/logs._write_request_line); it carries what the record's formatting would, and nothing secret."""
    import io

    caplog.set_level(logging.INFO, logger="micromall.request")
    headers = factories.login(client)
    request_id = "req-direct-0001"
    assert client.get("/api/v1/me", headers={**headers, "X-Request-Id": request_id}).status_code == 200
    [from_record] = [line for line in request_lines(caplog) if line["request_id"] == request_id]

    root, stream = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    saved = root.handlers[:]
    root.handlers[:] = [handler]  # pytest's capture handlers out of the way, as in production
    try:
        assert client.get("/api/v1/me", headers={**headers, "X-Request-Id": request_id}).status_code == 200
    finally:
        root.handlers[:] = saved
    [direct] = [json.loads(text) for text in stream.getvalue().splitlines()
                if json.loads(text).get("logger") == "micromall.request"]
    assert set(direct) == set(from_record)
    assert {k: v for k, v in direct.items() if k not in ("ts", "duration_ms")} == \
        {k: v for k, v in from_record.items() if k not in ("ts", "duration_ms")}
    token = headers["Authorization"].split()[1]
    assert token not in stream.getvalue() and direct["customer_id"] == from_record["customer_id"]
