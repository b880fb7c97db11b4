"""Operations: health and readiness, metrics, JSON logs with request ids, rate limits, security
headers, graceful degradation when the database stops answering.

The per-request work is kept small (the progress endpoint serves most traffic): one hook before the
request (request id, start time, body size) and one after (metrics, headers, one log line).
"""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger("service.access")


def init_app(app: Flask) -> None:
    import sqlalchemy.exc as sa_exc
    from werkzeug.middleware.proxy_fix import ProxyFix

    from service.extensions import api
    from service.ops import degrade, logs, metrics, ratelimits, security, views

    cfg = app.config
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
    static_headers = security.static_headers(cfg)
    embed_csp = security.embed_csp(cfg)
    log_requests = bool(cfg.get("LOG_REQUESTS", True))
    cache_sync = metrics.CacheSync()
    progress_endpoint = ratelimits.PROGRESS_ENDPOINT

    def start_request() -> None:
        g.t0 = perf_counter()
        rid = request.headers.get("X-Request-ID")
        g.request_id = rid if rid and REQUEST_ID_RE.fullmatch(rid) else uuid.uuid4().hex
        length = request.content_length
        if max_length and length is not None and length > max_length:
            raise RequestEntityTooLarge(f"The request body is larger than {max_length} bytes.")

    def finish_request(response: Response) -> Response:
        seconds = perf_counter() - g.get("t0", perf_counter())
        rule = request.url_rule
        endpoint = request.endpoint
        metrics.record_request(rule.rule if rule is not None else None, request.method, response.status_code, seconds)
        rid = g.get("request_id") or uuid.uuid4().hex
        headers = response.headers
        headers["X-Request-ID"] = rid
        if "Retry-After" in headers:
            # Flask-Limiter puts its window's Retry-After on every response of a limited route;
            # it only means something on a 429, and a 503 keeps the value its handler chose.
            own = g.get("retry_after")
            if own is not None:
                headers["Retry-After"] = own
            elif response.status_code != 429:
                del headers["Retry-After"]
        security.apply(response, request.path, endpoint, static_headers, embed_csp, production)
        if endpoint == progress_endpoint:
            cache_sync.sync(app.extensions.get("progress_cache"))
        if log_requests:
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "request_id": rid, "method": request.method, "path": request.path,
                "status": response.status_code, "duration_ms": round(seconds * 1000, 2)})
        return response

    # First before any other hook (the rate limiter's too), so that every response has a request id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    # Last after every other hook (Flask runs them in reverse order), to see the final response.
    app.after_request_funcs.setdefault(None, []).insert(0, finish_request)
