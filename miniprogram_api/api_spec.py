"""The one SpecTree of the API: `operation(...)` declares a view's request and response schemas, SpecTree validates
the request before the view runs and writes the operation into the OpenAPI document (openapi.py serves it).

Why SpecTree: it decorates the Flask blueprints and views as they are (flask-openapi3 and APIFlask replace the Flask
and Blueprint classes), so views convert one at a time; its overhead per request was measured against the others
(docs/api-schemas.md).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_model_key, get_multidict_items

from app.errors import InvalidRequest
from miniprogram_api.params import json_body
from miniprogram_api.schemas.common import ErrorEnvelope

BEARER = "bearer"  # the security scheme openapi.document() declares


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("items", 0, "sku_id") -> "items[0].sku_id"; a whole-body problem (wrong type of body) is "body".
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _refuse_in_envelope(req: Any, resp: Any, error: Exception | None, instance: Any, *adapter: Any) -> None:
    """SpecTree's own 422 list becomes the 400 `invalid_request` envelope whose details name the fields."""
    if not isinstance(error, ValidationError):
        return
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False, include_input=False):
        fields.setdefault(_field_name(tuple(problem["loc"])), problem["msg"])
    first, why = next(iter(fields.items()))
    raise InvalidRequest(f"{first}: {why}", {"fields": fields})


class _Plugin(FlaskPlugin):
    """SpecTree's Flask plugin without the work no declared model needs, on every request (bench/per_request.py):
    the headers are copied and the cookies parsed only for an operation that declares a model of them, and with
    API_VALIDATE_RESPONSES off (production) the view's answer goes to Flask as it is, where SpecTree took its body
    out and built the response again around it. What is validated, and the OpenAPI document, are unchanged."""

    def request_validation(self, request: Any, query: Any, json: Any, form: Any, headers: Any, cookies: Any) -> None:
        if form is not None:  # no operation declares a form; SpecTree's own path keeps it right if one ever does
            return super().request_validation(request, query, json, form, headers, cookies)
        validate = self.model_adapter.validate_obj
        use_json = json is not None and request.method not in ("GET", "DELETE") and (
            request.mimetype not in self.FORM_MIMETYPE)
        request.context = Context(
            validate(query, get_multidict_items(request.args, query)) if query is not None else None,
            validate(json, request.get_json(silent=True) or {}) if use_json else None,
            None,
            validate(headers, dict(iter(request.headers))) if headers is not None else None,
            validate(cookies, get_multidict_items(request.cookies)) if cookies is not None else None,
        )

    def validate_response(self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
                          ) -> tuple[Any, Exception | None]:
        if not current_app.config["API_VALIDATE_RESPONSES"]:
            return resp, None  # Flask makes the response, as it does for any view (same status, headers, body)
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


spec = SpecTree(
    "flask", backend=_Plugin, mode="strict", title="micromall", version="1", annotations=True,
    # Schema names as the classes are named (the default suffixes a hash of the module): one name per schema.
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child,
    validation_error_status=400, validation_error_model=ErrorEnvelope, before=_refuse_in_envelope,
)

class _Responses(Response):
    """SpecTree writes every body it has a model for as application/json, and a body without one not at all;
    `media_type` names the success body of an operation answering something else (a staff code is a JPEG)."""

    def __init__(self, media_type: str | None, status: int, **code_models: Any) -> None:
        super().__init__(**code_models)
        self.media_type, self.status = media_type, status

    def generate_spec(self, naming_strategy: Any = get_model_key) -> dict[str, Any]:
        responses = super().generate_spec(naming_strategy)
        if self.media_type is not None:
            # A binary body: a string of bytes, as the other image answers of the document say (openapi_console.IMAGE).
            responses[str(self.status)]["content"] = {self.media_type: {"schema": {"type": "string", "format": "binary"}}}
        return responses


CUSTOMER_ERRORS = {"HTTP_401": ErrorEnvelope}
STAFF_ERRORS = {"HTTP_401": ErrorEnvelope, "HTTP_403": ErrorEnvelope}


def operation(*, tags: tuple[str, ...], ok: type[BaseModel] | None, status: int = 200, json: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, headers: type[BaseModel] | None = None, errors: tuple[int, ...] = (), authenticated: bool = False,
              media_type: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare and validate one operation. Put it under the auth decorator, so a missing token answers 401 before a
    bad body answers 400. `errors` lists the statuses the operation answers besides 400 (all in the envelope).
    `media_type`, with `ok=None`: the success body is not JSON but this (documented, not validated)."""
    assert media_type is None or ok is None, "a non-JSON success body has no model"
    responses: dict[str, Any] = {f"HTTP_{status}": ok}
    responses.update({f"HTTP_{code}": ErrorEnvelope for code in errors})
    if authenticated:
        responses["HTTP_401"] = ErrorEnvelope
    validate = spec.validate(json=json, query=query, headers=headers, resp=_Responses(media_type, status, **responses),
                             tags=list(tags), security={BEARER: []} if authenticated else None)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        validated = validate(view)
        if json is None:
            return validated

        @wraps(validated)
        def checked(*args: Any, **kwargs: Any) -> Any:
            # Malformed JSON, lone surrogates and absurd nesting are refused first, with the messages of
            # params.json_body (Flask's own parser would answer a deep nest with a RecursionError: a 500).
            json_body()
            return validated(*args, **kwargs)
        return checked
    return decorate
