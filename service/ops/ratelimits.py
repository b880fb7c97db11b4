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
  between workers and hosts. With memory://, N processes allow N times each limit: production with
  several gunicorn workers logs a warning at start (`per_process_warning`). If Redis stops answering
  (a connection is refused, or a reply takes longer than REDIS_TIMEOUT), requests are served, each
  process counting in memory until Redis is back, rather than failed.
- Not here: the per-address sign-in quota is a rule of the paywall kept in the database
  (paywall/quota.py), exact across hosts with or without Redis.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request

from service.extensions import limiter

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDIS_TIMEOUT = 0.5  # seconds: a Redis on the local network answers in about a millisecond
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
    if str(app.config.get("RATELIMIT_STORAGE_URI") or "").startswith(("redis://", "rediss://")):
        # redis-py waits for ever by default: a Redis that stops answering would hang every request.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": REDIS_TIMEOUT,
                                                            "socket_connect_timeout": REDIS_TIMEOUT})
    if skip_limiter not in getattr(limiter, "_request_filters", []):  # one global limiter, many apps (tests)
        limiter.request_filter(skip_limiter)


_progress_rule = limiter.limit(progress_limit, exempt_when=progress_unlimited)


def worker_processes(environ: Mapping[str, str]) -> int | None:
    """How many processes serve the app on this host, as far as the server's environment tells.

    GUNICORN_WORKERS (what gunicorn.conf.py reads), else WEB_CONCURRENCY (gunicorn's own default and
    the hosting platforms' convention); under gunicorn (SERVER_SOFTWARE=gunicorn/...) with neither,
    gunicorn.conf.py's default, 2 x cores + 1 (at most 9). None when nothing says (`flask run`, tests).
    """
    for name in ("GUNICORN_WORKERS", "WEB_CONCURRENCY"):
        value = (environ.get(name) or "").strip()
        if value.isdigit():
            return int(value)
    if (environ.get("SERVER_SOFTWARE") or "").startswith("gunicorn/"):
        return min(2 * (os.cpu_count() or 1) + 1, 9)
    return None


def per_process_warning(cfg: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """The start-up warning when production keeps Flask-Limiter's counters per process, or None."""
    if cfg.get("SERVICE_ENV") != "production" or not cfg.get("RATELIMIT_ENABLED", True):
        return None
    if not str(cfg.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        return None
    workers = worker_processes(environ)
    if workers is None or workers <= 1:
        return None
    return (f"RATELIMIT_STORAGE_URI=memory:// with {workers} worker processes: the per-address rate limits "
            "(sign-in links per client address, staff sign-in, writes) are counted per process, so each allows "
            f"up to {workers} times its limit (and more with several hosts). Set RATELIMIT_STORAGE_URI=redis://... "
            "to share them.")


def apply(app: Flask) -> None:
    """Attaches the endpoint limits defined here to views registered by the feature packages."""
    warning = per_process_warning(app.config, os.environ)
    if warning:
        log.warning(warning)
    if not (app.config.get("RATELIMIT_ENABLED", True) and app.config.get("RATELIMIT_PROGRESS")):
        return  # no wrapper at all: the limiter's per-request work is a measurable part of a cache hit
    view = app.view_functions.get(PROGRESS_ENDPOINT)
    if view is not None and not getattr(view, "__wrapper-limiter-instance", None):
        # Flask-Limiter checks a decorated limit inside the wrapper it returns: install the wrapper.
        app.view_functions[PROGRESS_ENDPOINT] = _progress_rule(view)
