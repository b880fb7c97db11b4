"""Domain errors and RFC 9457 problem+json responses for every 4xx and 5xx."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://membership-service.example/problems/"
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A rule of the domain was broken; views turn it into a problem response."""

    status = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    type = "not-found"
    title = "Not found"


class Gone(NotFound):
    """It existed and was retired on purpose (an archived campaign): 410, and still a NotFound to callers
    that only need "nothing to show"."""

    status = 410
    type = "gone"
    title = "Gone"


class Invalid(DomainError):
    status = 422
    type = "validation-error"
    title = "Invalid input"


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class Unauthorized(DomainError):
    status = 401
    type = "unauthorized"
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class UpstreamError(DomainError):
    status = 502
    type = "upstream-error"
    title = "Upstream service error"


class Unavailable(DomainError):
    status = 503
    type = "unavailable"
    title = "Service unavailable"


def problem(status: int, title: str, detail: str | None = None, type_: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_ if type_ else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-").replace("'", "")


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    extra: dict[str, Any] = {}
    # flask-smorest/webargs put validation messages on exc.data
    data = getattr(exc, "data", None) or {}
    if isinstance(data, dict) and data.get("messages"):
        extra["errors"] = data["messages"]
    detail = exc.description if isinstance(exc.description, str) else None
    headers = {k: v for k, v in exc.get_headers() if k.lower() not in ("content-type",)}
    if status == 422:
        return problem(422, "Invalid input", detail or "The request did not validate.",
                       "validation-error", headers=headers, **extra)
    return problem(status, exc.name, detail, _slug(exc.name), headers=headers, **extra)


def handle_domain_error(exc: DomainError) -> Response:
    return problem(exc.status, exc.title, exc.detail, exc.type, **exc.extra)


def handle_unexpected(exc: Exception) -> Response:
    from service.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.exception("rollback after an unexpected error failed")
    log.exception("unhandled error")
    detail = None
    if current_app.debug and current_app.config.get("SERVICE_ENV") != "production":
        detail = f"{type(exc).__name__}: {exc}"
    return problem(500, "Internal server error", detail, "internal-error")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
