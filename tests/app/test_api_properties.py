"""A property-based run (Schemathesis) against the served OpenAPI document, on the operations declared by schema:
no server error, and every answer fits the document (status, content type, body). Bounded: a few examples per
operation, so it adds seconds to CI.

Checked: no 5xx, and status, content type and body each as the document declares. Not checked: that every request
the document allows is accepted (Schemathesis' positive_data_acceptance) — a few rules span fields (lat goes with
lng, at most 99 of one SKU across an order's lines, exactly one of a pickup's code and qr_token), which JSON Schema
in the document does not express; they answer the declared 400.

The customer's operations run logged in as a customer, the staff mini-program's as a manager's seat (so /invites
passes authorization); a logout gets a token of its own each time, so it does not log the rest of the run out."""
from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tests import factories
from tests.app.test_api_schemas import CONVERTED, STAFF_CONVERTED

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CUSTOMER_CONVERTED = [op for op in CONVERTED if op not in STAFF_CONVERTED]


def _answers_as_documented(app, converted: list[tuple[str, str]], token: Callable[[str], dict[str, str]],
                           max_examples: int) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    wanted = set(converted)
    operations = [result.ok() for result in schema.include(path=sorted({p for _, p in converted})).get_all_operations()]
    operations = [op for op in operations if (op.method.lower(), op.path) in wanted]
    assert len(operations) == len(converted)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(checks=CHECKS, headers=token(case.operation.path))

        answers_as_documented()


def test_the_api_answers_as_its_document_says(app, client, app_ctx):
    factories.product(stock={factories.store(): 5})
    headers = factories.login(client)  # a customer's operations are run logged in, past the 401
    _answers_as_documented(app, CUSTOMER_CONVERTED, max_examples=8, token=lambda path: (
        factories.login(client) if path.endswith("/auth/logout") else headers))


def test_the_staff_operations_answer_as_their_document_says(app, client, app_ctx):
    store_id = factories.store()
    factories.product(stock={store_id: 5})
    seat_id, headers = factories.staff_seat(client, store_id, "manager")
    _answers_as_documented(app, STAFF_CONVERTED, max_examples=6, token=lambda path: (
        factories.staff_login(client, seat_id) if path.endswith("/auth/logout") else headers))


# The routes outside the JSON API that a stranger can reach without a session: the probes and WeChat's callbacks.
# Junk (unsigned, malformed) must be refused with the documented 4xx, never a 5xx.
CALLBACKS = ["/healthz", "/readyz", "/wechat/official-account", "/payments/wechatpay/notify",
             "/payments/wechatpay/refund-notify", "/payments/wechatpay/transfer-notify"]


def test_the_probes_and_callbacks_answer_junk_as_their_document_says(app, client, app_ctx):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(path=CALLBACKS).get_all_operations()]
    assert len(operations) == 7
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def refuses_junk_as_documented(case):
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code < 500 or case.path == "/readyz"

        refuses_junk_as_documented()
