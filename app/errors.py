"""Domain errors with stable codes, and the one envelope every error leaves the API in (API.md)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.code = code or self.code
        self.status = status or self.status
        self.headers = headers or {}


class InvalidRequest(ApiError):
    status, code = 400, "invalid_request"


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, {"retry_after_s": retry_after_s}, headers={"Retry-After": str(retry_after_s)})


class UpstreamUnavailable(ApiError):
    """WeChat did not answer usefully; the client may try again."""
    status, code = 503, "upstream_unavailable"


class ServiceUnavailable(ApiError):
    """The database or Redis failed or did not answer in time: nothing was done, the client may try again."""
    status, code = 503, "service_unavailable"


RETRY_AFTER_S = 5


def infrastructure_failure(exc: BaseException) -> str | None:
    """"database" or "redis" when `exc` is that backend failing (down, frozen, timed out), else None."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, (OperationalError, PoolTimeout)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return "database"
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "redis"
    return None


def invalid_field(field: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {problem}", {"fields": {field: problem}})


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


# werkzeug's HTTP errors mapped to the codes of API.md.
_HTTP_CODES = {400: "invalid_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
               429: "rate_limited"}


def register_error_handlers(app: Flask) -> None:
    @app.teardown_appcontext
    def _end_session_safely(_exc) -> None:
        # Registered after Flask-SQLAlchemy's own teardown, so it runs first: ending the session rolls back, and on
        # a database that just froze or died that ROLLBACK fails after the answer was made; without this the
        # error escapes the app and the client gets a bare 500 instead of the answer.
        from app.extensions import db

        try:
            db.session.remove()
        except Exception as err:
            if infrastructure_failure(err) is None:
                raise
            current_app.logger.warning("session ended without its ROLLBACK (%s)", type(err).__name__)
            drop_connections()
            try:
                db.session.remove()
            except Exception:  # already closed; nothing is left to release
                pass

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        _rollback()
        response = jsonify(envelope(err.code, err.message, err.details))
        response.headers.update(err.headers)
        return response, err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        code = _HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
        message = {413: f"The request body is larger than {current_app.config['MAX_REQUEST_BYTES']} bytes."}.get(
            status, err.description or err.name)
        response = jsonify(envelope(code, message))
        if getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        backend = infrastructure_failure(err)
        if backend is not None:
            if backend == "database":
                drop_connections()
            else:
                _rollback()
            current_app.logger.warning("%s unavailable: %s: %s", backend, type(err).__name__, err)
            message = f"The service is briefly unavailable ({backend}); please try again in {RETRY_AFTER_S} seconds."
            response = jsonify(envelope(ServiceUnavailable.code, message, {"retry_after_s": RETRY_AFTER_S}))
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
            return response, ServiceUnavailable.status
        _rollback()
        current_app.logger.exception("unhandled error")
        return jsonify(envelope("internal_error", "Something went wrong on our side; please try again.")), 500


def drop_connections() -> None:
    """After a database or Redis failure: end the session without a ROLLBACK round trip (on a frozen database that
    would wait out another read timeout); its connections are invalidated, and the pool opens fresh ones."""
    from app.extensions import db

    try:
        db.session.invalidate()
    except Exception:  # nothing more to undo: the transaction died with its connection
        pass


def _rollback() -> None:
    """An error never leaves half a change behind: whatever the request flushed is undone before it answers."""
    from app.extensions import db

    if not db.session.registry.has():
        return  # the request never opened a session (a 401, a refused query, /healthz): none is made to roll back
    try:
        db.session.rollback()
    except Exception as err:  # the database went away meanwhile: the transaction died with its connection
        if infrastructure_failure(err) is None:
            raise
        drop_connections()
