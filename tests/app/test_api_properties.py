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
from tests.app.test_api_schemas import CONVERTED, PROMO_STAFF
from tests.pickup.conftest import staff_member  # noqa: F401 (fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CUSTOMER_CONVERTED = [op for op in CONVERTED if op not in PROMO_STAFF]


def test_the_api_answers_as_its_document_says(app, client, app_ctx):
    factories.product(stock={factories.store(): 5})
    token = factories.login(client)  # a customer's operations are run logged in, past the 401
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in
                  schema.include(path=sorted({p for _, p in CUSTOMER_CONVERTED})).get_all_operations()]
    assert len(operations) == len(CUSTOMER_CONVERTED)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            # A logout has a token of its own: the shared one would log the rest of the run out (every later
            # operation a 401).
            headers = factories.login(client) if case.path.endswith("/auth/logout") else token
            case.call_and_validate(checks=CHECKS, headers=headers)

        answers_as_documented()


def test_the_staff_commission_operations_answer_as_their_document_says(app, client, staff_member, app_ctx):  # noqa: F811
    """Coupons' and commission's staff operations (PROMO_STAFF), as a manager's seat: past the 401 and the 403."""
    store_id = factories.store()
    token = staff_member(store_id, "manager").headers
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(path=sorted({p for _, p in PROMO_STAFF})).get_all_operations()]
    assert len(operations) == len(PROMO_STAFF)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(checks=CHECKS, headers=token)

        answers_as_documented()
