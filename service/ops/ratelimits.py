"""Rate-limit policy (Flask-Limiter), every limit read from configuration at request time.

- Progress JSON (`RATELIMIT_PROGRESS`, default off, e.g. `1200/minute` per client address): it is
  answered from memory and usually behind a CDN, whose address would be "the client". Measured here,
  Flask-Limiter's check costs more than the cache hit itself (a limited progress request takes about
  2.5x the CPU), so by default the hot read is limited at the edge (nginx `limit_req`, the CDN) and
  this setting is for origins exposed without one. Behind proxies set PROXY_HOPS so that the client
  address is the reader's, not the proxy's.
- Every write (POST/PUT/PATCH/DELETE) without a limit of its own (`RATELIMIT_PUBLIC_WRITE`, default
  120/minute;1200/hour per client address and endpoint): checkout, magic links, widget events, access.
  Endpoints that need a tighter rule (e.g. magic links per e-mail address) add their own
  `@limiter.limit(...)`, which replaces this default.
- Exempt: reads other than progress, Stripe webhooks (Stripe's few addresses send bursts, and a 429
  only delays delivery), health, readiness and metrics.
- Storage: memory:// per process by default; `RATELIMIT_STORAGE_URI=redis://...` shares counters
  between hosts. If Redis stops answering, requests are served (limits fall back to memory) rather
  than failed.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from service.extensions import limiter

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROGRESS_ENDPOINT = "campaigns.progress"


def public_write_limit() -> str:
    return current_app.config.get("RATELIMIT_PUBLIC_WRITE") or "1000000/second"


def exempt_from_write_default() -> bool:
    if request.method in SAFE_METHODS or not current_app.config.get("RATELIMIT_PUBLIC_WRITE"):
        return True
    return "webhook" in (request.endpoint or "")


def progress_limit() -> str:
    return current_app.config.get("RATELIMIT_PROGRESS") or "1000000/second"


def progress_unlimited() -> bool:
    return not current_app.config.get("RATELIMIT_PROGRESS")


UNLIMITED_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "metrics.metrics_view"})


def skip_limiter() -> bool:
    """Flask-Limiter request filter: no limit work at all for the unlimited hot endpoints.

    Resolving limits costs about 0.1 ms per request even when none applies, as much as a progress
    cache hit itself; the filter is checked before any of that work.
    """
    endpoint = request.endpoint
    if endpoint == PROGRESS_ENDPOINT:
        return not current_app.config.get("RATELIMIT_PROGRESS")
    return endpoint in UNLIMITED_ENDPOINTS


def configure(app: Flask) -> None:
    """Flask-Limiter settings; runs before `limiter.init_app(app)` reads them."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_DEFAULT", public_write_limit)
    app.config.setdefault("RATELIMIT_DEFAULTS_EXEMPT_WHEN", exempt_from_write_default)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # a broken Redis must not fail requests
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "membership")
    if skip_limiter not in getattr(limiter, "_request_filters", []):  # one global limiter, many apps (tests)
        limiter.request_filter(skip_limiter)


_progress_rule = limiter.limit(progress_limit, exempt_when=progress_unlimited)


def apply(app: Flask) -> None:
    """Attaches the endpoint limits defined here to views registered by the feature packages."""
    if not (app.config.get("RATELIMIT_ENABLED", True) and app.config.get("RATELIMIT_PROGRESS")):
        return  # no wrapper at all: the limiter's per-request work is a measurable part of a cache hit
    view = app.view_functions.get(PROGRESS_ENDPOINT)
    if view is not None and not getattr(view, "__wrapper-limiter-instance", None):
        # Flask-Limiter checks a decorated limit inside the wrapper it returns: install the wrapper.
        app.view_functions[PROGRESS_ENDPOINT] = _progress_rule(view)
