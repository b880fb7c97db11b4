"""Operations: health and readiness, metrics, JSON logs with request ids, rate limits, security
headers, graceful degradation when the database stops answering, the fast path of the hot route.

Ops knows no feature: each registers its CORS resources, limits, header classes, fallbacks, gauges and
hot route in service/ops/registry.py. The per-request hooks are in service/ops/hooks.py.
"""

from __future__ import annotations

from flask import Flask

from service.ops import registry


def init_app(app: Flask) -> None:
    """Ops is the last feature (service.FEATURES): every other has registered what ops needs to know
    (service/ops/registry.py), and every URL rule is known."""
    from service.ops import logs

    registered = registry.of(app)
    _configure(app)
    _routes_limits_and_errors(app, registered)
    _request_hooks(app, registered)
    _fast_path(app, registered)
    # Every URL rule is known, so every log line can mask the paths of rules with secret parameters.
    logs.register_secret_routes(r.rule for r in app.url_map.iter_rules())


def _configure(app: Flask) -> None:
    """Cookie sessions, logging, production cookie flags and the proxy hops of the client address."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from service.ops import logs, sessions

    cfg = app.config
    app.session_interface = sessions.LazyCookieSessionInterface()
    logs.configure(cfg.get("LOG_LEVEL", "INFO"), cfg.get("LOG_FORMAT", "json"))
    if cfg.get("SERVICE_ENV") == "production":
        cfg.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    hops = int(cfg.get("PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _routes_limits_and_errors(app: Flask, registered: registry.Registry) -> None:
    """Health, readiness and metrics; the registered limits and CORS resources; database errors."""
    import sqlalchemy.exc as sa_exc
    from flask_cors import CORS

    from service.extensions import api
    from service.ops import degrade, metrics, ratelimits, views

    plan = ratelimits.LimitPlan.of(registered)
    app.extensions["ops"] = {"metrics_networks": metrics.parse_networks(app.config.get("METRICS_ALLOWED_NETWORKS", "")),
                             "limits": plan}
    api.register_blueprint(views.blp)
    app.register_blueprint(views.metrics_bp)
    ratelimits.apply(app, plan)
    if registered.cors:
        CORS(app, resources=dict(registered.cors))
    app.register_error_handler(sa_exc.DBAPIError, degrade.handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, degrade.handle_database_error)


def _request_hooks(app: Flask, registered: registry.Registry) -> None:
    from service.ops import hooks, logs, metrics, security

    cfg = app.config
    start = hooks.start_hook(int(cfg.get("MAX_CONTENT_LENGTH") or 0))
    finish = hooks.finish_hook(app, security.HeaderSets(cfg, registered),
                               logs.request_log_mode(cfg.get("LOG_REQUESTS", "except-progress")),
                               frozenset(registered.quiet_endpoints), dict(registered.counted_caches),
                               app.extensions["ops"].setdefault("cache_sync", metrics.CacheSync()))
    # First before any other hook (the rate limiter's too), so that every response has a request id.
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    # Last after every other hook (Flask runs them in reverse order), to see the final response.
    app.after_request_funcs.setdefault(None, []).insert(0, finish)


def _fast_path(app: Flask, registered: registry.Registry) -> None:
    """The registered hot route answered before Flask (ops/fastpath.py), unless a setting needs every request
    in Flask: every access line logged, or the route's own rate limit."""
    from service.ops import hooks, logs, metrics
    from service.ops.fastpath import FastPath

    route = registered.fast_route
    if route is None or logs.request_log_mode(app.config.get("LOG_REQUESTS", "except-progress")) == "all":
        return
    setting = registered.optional_limits.get(route.endpoint)
    if setting and app.config.get(setting):
        return
    rule = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == route.endpoint)
    record_request, cache_sync = metrics.record_request, app.extensions["ops"]["cache_sync"]

    def fast_hit(seconds: float) -> None:
        record_request(rule, "GET", 200, seconds)
        cache_sync.sync(route.cache)

    app.wsgi_app = FastPath(app.wsgi_app, route, hooks.request_id_of, fast_hit)  # type: ignore[method-assign]
