"""Operations: health and readiness, metrics, JSON logs with request ids, rate limits, security
headers, graceful degradation when the database stops answering.

The per-request work is kept small (the progress endpoint serves most traffic): one hook before the
request (request id, start time, body size) and one after (metrics, headers, one log line).
"""

from __future__ import annotations

import logging
import os
import re
from time import perf_counter

from flask import Flask, Response, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

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


def init_app(app: Flask) -> None:
    import sqlalchemy.exc as sa_exc
    from werkzeug.middleware.proxy_fix import ProxyFix

    from service.extensions import api
    from service.ops import degrade, logs, metrics, ratelimits, security, sessions, views

    cfg = app.config
    app.session_interface = sessions.LazyCookieSessionInterface()
    degrade.check_config(cfg)
    logs.configure(cfg.get("LOG_LEVEL", "INFO"), cfg.get("LOG_FORMAT", "json"))
    production = cfg.get("SERVICE_ENV") == "production"
    if production:
        cfg.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    hops = int(cfg.get("PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    app.extensions["ops"] = {"metrics_networks": metrics.parse_networks(cfg.get("METRICS_ALLOWED_NETWORKS", ""))}
    api.register_blueprint(views.blp)
    app.register_blueprint(views.metrics_bp)
    ratelimits.apply(app)
    app.register_error_handler(sa_exc.DBAPIError, degrade.handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, degrade.handle_database_error)
    degrade.register_fallback("paywall.access", degrade.paywall_access_fallback)

    max_length = int(cfg.get("MAX_CONTENT_LENGTH") or 0)
    header_sets = security.HeaderSets(cfg)
    log_mode = logs.request_log_mode(cfg.get("LOG_REQUESTS", "except-progress"))
    log_all = log_mode == "all"
    cache_sync = metrics.CacheSync()
    progress_endpoint = ratelimits.PROGRESS_ENDPOINT
    record_request = metrics.record_request
    apply_headers = security.apply
    is_secret_param, loggable_path, loggable_query = logs.is_secret_param, logs.loggable_path, logs.loggable_query

    # Each proxy (request, g) is resolved once per hook: a LocalProxy lookup costs about a microsecond.
    def start_request() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        ctx.t0 = perf_counter()
        rid = req.headers.get("X-Request-ID")
        ctx.request_id = rid if rid and REQUEST_ID_RE.fullmatch(rid) else new_request_id()
        environ = req.environ
        if "\x00" in environ.get("PATH_INFO", "") or has_nul(environ.get("QUERY_STRING", "")):
            raise BadRequest(NUL_IN_URL)
        if max_length and req.environ.get("CONTENT_LENGTH"):
            length = req.content_length
            if length is not None and length > max_length:
                raise RequestEntityTooLarge(f"The request body is larger than {max_length} bytes.")

    def finish_request(response: Response) -> Response:
        end = perf_counter()
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        seconds = end - getattr(ctx, "t0", end)
        status = response.status_code
        rule = req.url_rule
        method = req.method
        record_request(rule.rule if rule is not None else None, method, status, seconds)
        rid = getattr(ctx, "request_id", None) or new_request_id()
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        if "x-request-id" in present:
            headers["X-Request-ID"] = rid
        else:
            headers.add("X-Request-ID", rid)  # validated: an incoming id matched REQUEST_ID_RE
        if "retry-after" in present:
            # Flask-Limiter puts its window's Retry-After on every response of a limited route; it
            # means something on a 429, a 503 or a redirect only, and a database 503 keeps its own value.
            own = getattr(ctx, "retry_after", None)
            if own is not None:
                headers["Retry-After"] = own
            elif status not in (429, 503) and not 300 <= status < 400:
                del headers["Retry-After"]
        endpoint = req.endpoint
        path = req.path
        apply_headers(response, present, path, endpoint, header_sets, production)
        if endpoint == progress_endpoint:
            cache_sync.sync(app.extensions.get("progress_cache"))
        if log_all:
            log_it = True
        elif log_mode == "off":
            log_it = False
        elif status >= 400 or seconds >= SLOW_SECONDS:
            log_it = True
        else:
            log_it = log_mode == "except-progress" and endpoint != progress_endpoint
        if log_it:
            view_args = req.view_args
            if view_args and rule is not None and any(map(is_secret_param, view_args)):
                path = loggable_path(rule.rule, view_args)  # magic-link token, Checkout Session id
            fields = {"request_id": rid, "method": method, "path": path, "status": status,
                      "duration_ms": round(seconds * 1000, 2)}
            query = req.environ.get("QUERY_STRING")
            if query:
                fields["query"] = loggable_query(query)  # member_token, reader_id, ... masked
            access_log.info("%s %s %s", method, path, status, extra=fields)
        return response

    if not log_all and not cfg.get("RATELIMIT_PROGRESS") and "progress_cache" in app.extensions:
        from service.campaigns.views import locale_key
        from service.ops.fastpath import RULE, ProgressFastPath

        def fast_request_id(environ: dict) -> str:
            rid = environ.get("HTTP_X_REQUEST_ID")
            return rid if rid and REQUEST_ID_RE.fullmatch(rid) else new_request_id()

        def fast_hit(seconds: float) -> None:
            record_request(RULE, "GET", 200, seconds)
            cache_sync.sync(app.extensions.get("progress_cache"))

        app.wsgi_app = ProgressFastPath(  # type: ignore[method-assign]
            app.wsgi_app, app.extensions["progress_cache"], locale_key, fast_request_id, fast_hit)

    # ops is the last feature (service.FEATURES): every URL rule is known, so every log line can mask
    # the paths of rules with secret parameters.
    logs.register_secret_routes(r.rule for r in app.url_map.iter_rules())

    # First before any other hook (the rate limiter's too), so that every response has a request id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    # Last after every other hook (Flask runs them in reverse order), to see the final response.
    app.after_request_funcs.setdefault(None, []).insert(0, finish_request)
