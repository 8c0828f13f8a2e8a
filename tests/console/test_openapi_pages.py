"""The console's pages answer as the OpenAPI document describes them: for the owner, signed in, every GET page,
image, CSV and polling answer comes back with a documented status, media type and (JSON) schema. Bounded: a few
generated examples each (store ids, days, dates, the search fields)."""
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Each scan page makes a code (a row and a rate-limit slot); the static files are streamed from disk, and
# Schemathesis' WSGI transport leaves the file open (a ResourceWarning, an error here).
SKIPPED = {"/console/login/scan", "/console/wechat/bind", "/console/static/{filename}"}


def test_the_console_pages_answer_as_the_document_says(app, owner, shops):
    cookie = owner.get_cookie("session").value
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(path_regex="^/console/", method="GET").get_all_operations()
                  if result.ok().path not in SKIPPED]
    assert len(operations) > 25
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=3, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.cookies = {**(case.cookies or {}), "session": cookie}  # signed in (a Cookie header is dropped)
            case.call_and_validate(checks=CHECKS)

        answers_as_documented()


def test_the_pictures_and_files_have_their_documented_media_types(app, owner, shops):
    paths = owner.get("/api/v1/openapi.json").get_json()["paths"]
    owner.get("/console/login/scan")
    for path, template in [(f"/console/stores/{shops.store_a}/qrcode", "/console/stores/{store_id}/qrcode"),
                           (f"/console/stores/{shops.store_a}/miniprogram-code",
                            "/console/stores/{store_id}/miniprogram-code"),
                           ("/console/login/scan-qr", "/console/login/scan-qr"),
                           ("/console/catalog/export.csv", "/console/catalog/export.csv")]:
        response = owner.get(path)
        assert response.status_code == 200, path
        assert response.content_type in paths[template]["get"]["responses"]["200"]["content"] or \
            response.mimetype in paths[template]["get"]["responses"]["200"]["content"], (path, response.content_type)
    assert owner.get("/console/money.csv").content_type == "text/csv; charset=utf-8"


def test_the_console_forms_answer_as_the_document_says(app, owner, shops):
    """Generated form posts, with the session's real CSRF token: each answer is a documented status and media type
    (a redirect, a page, the error page). Not the password change (it would end this session)."""
    from tests.console.conftest import csrf_token

    token = csrf_token(owner, "/console/today")
    cookie = owner.get_cookie("session").value  # after the token: the session holds its secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.include(path_regex="^/console/", method="POST").get_all_operations()
                  if result.ok().path not in ("/console/password", "/console/logout")]
    assert len(operations) > 15
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.cookies = {**(case.cookies or {}), "session": cookie}
            if isinstance(case.body, dict):
                case.body = {**case.body, "csrf_token": token}
            case.call_and_validate(checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as exc:  # every operation's finding at once, not the first one only
            failures.append(f"{operation.method} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)
