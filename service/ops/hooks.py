"""The per-request work of ops, kept small (hot endpoints serve most traffic): one hook before the request
(request id, start time, NUL check, body size) and one after (metrics, headers, one log line).

Each proxy (request, g) is resolved once per hook: a LocalProxy lookup costs about a microsecond.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from time import perf_counter
from typing import Any

from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from service.ops import logs, metrics, security

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
SLOW_SECONDS = 1.0  # a request at least this slow is always logged (unless LOG_REQUESTS=off)
access_log = logging.getLogger("service.access")

# No resource name or parameter holds a NUL, and PostgreSQL refuses it in text: one check for every
# route (a 400, whatever the database), instead of a 404 on SQLite and a DataError on PostgreSQL.
NUL_IN_URL = "The URL holds a NUL character (%00); no path or query parameter may contain one."


def has_nul(query_string: str) -> bool:
    """A raw WSGI query string (still percent-encoded) that decodes to text with a NUL."""
    return "%00" in query_string or "\x00" in query_string


def new_request_id() -> str:
    """32 random hex digits (as random as a uuid4, without building a UUID object)."""
    return os.urandom(16).hex()


def request_id_of(environ: dict) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one."""
    rid = environ.get("HTTP_X_REQUEST_ID")
    return rid if rid and REQUEST_ID_RE.fullmatch(rid) else new_request_id()


def start_hook(max_length: int) -> Callable[[], None]:
    """First before any other hook (the rate limiter's too), so that every response has a request id."""

    def start_request() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        ctx.t0 = perf_counter()
        environ = req.environ
        ctx.request_id = request_id_of(environ)
        if "\x00" in environ.get("PATH_INFO", "") or has_nul(environ.get("QUERY_STRING", "")):
            raise BadRequest(NUL_IN_URL)
        if max_length and environ.get("CONTENT_LENGTH"):
            length = req.content_length
            if length is not None and length > max_length:
                raise RequestEntityTooLarge(f"The request body is larger than {max_length} bytes.")

    return start_request


def finish_hook(app: Flask, header_sets: security.HeaderSets, log_mode: str, quiet: frozenset[str],
                counted_caches: dict[str, Any], cache_sync: metrics.CacheSync) -> Callable[[Response], Response]:
    """Last after every other hook: metrics, request id, Retry-After, security headers, the access line."""
    production = app.config.get("SERVICE_ENV") == "production"
    record_request, apply_headers = metrics.record_request, security.apply

    def finish_request(response: Response) -> Response:
        end = perf_counter()
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        seconds = end - getattr(ctx, "t0", end)
        status = response.status_code
        rule = req.url_rule
        record_request(rule.rule if rule is not None else None, req.method, status, seconds)
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        rid = _set_request_id(headers, present, getattr(ctx, "request_id", None) or new_request_id())
        if "retry-after" in present:
            _keep_meaningful_retry_after(headers, status, getattr(ctx, "retry_after", None))
        endpoint = req.endpoint
        apply_headers(response, present, req.path, endpoint, header_sets, production)
        cache = counted_caches.get(endpoint) if endpoint else None
        if cache is not None:
            cache_sync.sync(cache)
        if should_log(log_mode, status, seconds, endpoint in quiet):
            log_access(req, rid, status, seconds)
        return response

    return finish_request


def _set_request_id(headers: Any, present: set[str], rid: str) -> str:
    if "x-request-id" in present:
        headers["X-Request-ID"] = rid
    else:
        headers.add("X-Request-ID", rid)  # validated: an incoming id matched REQUEST_ID_RE
    return rid


def _keep_meaningful_retry_after(headers: Any, status: int, own: str | None) -> None:
    """Flask-Limiter puts its window's Retry-After on every response of a limited route; it means something
    on a 429, a 503 or a redirect only, and a database 503 keeps its own value."""
    if own is not None:
        headers["Retry-After"] = own
    elif status not in (429, 503) and not 300 <= status < 400:
        del headers["Retry-After"]


def should_log(log_mode: str, status: int, seconds: float, quiet: bool) -> bool:
    """LOG_REQUESTS (logs.request_log_mode): every line, none, errors and slow requests, or all but the
    quiet (hot) endpoints' successful answers."""
    if log_mode == "all":
        return True
    if log_mode == "off":
        return False
    if status >= 400 or seconds >= SLOW_SECONDS:
        return True
    return log_mode == "except-progress" and not quiet


def log_access(req: Request, rid: str, status: int, seconds: float) -> None:
    """One access line; secret path parameters (magic-link token, Checkout Session id) and query values
    (member_token, reader_id, ...) masked."""
    path, rule, view_args = req.path, req.url_rule, req.view_args
    if view_args and rule is not None and any(map(logs.is_secret_param, view_args)):
        path = logs.loggable_path(rule.rule, view_args)
    fields: dict[str, Any] = {"request_id": rid, "method": req.method, "path": path, "status": status,
                              "duration_ms": round(seconds * 1000, 2)}
    query = req.environ.get("QUERY_STRING")
    if query:
        fields["query"] = logs.loggable_query(query)
    access_log.info("%s %s %s", req.method, path, status, extra=fields)
