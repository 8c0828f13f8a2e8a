"""A property-based run (Schemathesis) against the served OpenAPI document, on the operations declared by schema:
no server error, and every answer fits the document (status, content type, body). Bounded: a few examples per
operation, so it adds seconds to CI.

Checked: no 5xx, and status, content type and body each as the document declares. Not checked: that every request
the document allows is accepted (Schemathesis' positive_data_acceptance) — a few rules span fields (lat goes with
lng, at most 99 of one SKU across an order's lines), which JSON Schema in the document does not express; they answer
the declared 400."""
import schemathesis
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)
from hypothesis import HealthCheck, given, settings

from tests import factories
from tests.app.test_api_schemas import CONVERTED

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_answers_as_its_document_says(app, client, app_ctx):
    factories.product(stock={factories.store(): 5})
    token = factories.login(client)  # a customer's operations are run logged in, past the 401
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(path=sorted({p for _, p in CONVERTED})).get_all_operations()]
    assert len(operations) == len(CONVERTED)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(checks=CHECKS, headers=token)

        answers_as_documented()


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
