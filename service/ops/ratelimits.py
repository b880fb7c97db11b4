"""Rate-limit policy (Flask-Limiter), every limit read from configuration at request time.

- Hot reads a feature registered with a setting (`registry.optional_limits`: the progress JSON with
  `RATELIMIT_PROGRESS`, default off, e.g. `1200/minute` per client address): it is answered from memory
  and usually behind a CDN, whose address would be "the client". Measured here, Flask-Limiter's check
  costs more than the cache hit itself (a limited progress request takes about 2.5x the CPU), so by
  default the hot read is limited at the edge (nginx `limit_req`, the CDN), the limiter does no work for
  it at all, and the setting is for origins exposed without one. Behind proxies set PROXY_HOPS so that
  the client address is the reader's, not the proxy's.
- Every write (POST/PUT/PATCH/DELETE) without a limit of its own (`RATELIMIT_PUBLIC_WRITE`, default
  120/minute;1200/hour per client address and endpoint): checkout, magic links, widget events, access.
  Endpoints that need a tighter rule (e.g. magic links per e-mail address) add their own
  `@limiter.limit(...)`, which replaces this default.
- Exempt: other reads, endpoints a feature registered as exempt from the write default (Stripe webhooks:
  Stripe's few addresses send bursts, and a 429 only delays delivery), health, readiness and metrics.
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
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request

from service.extensions import limiter
from service.ops.registry import Registry

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDIS_TIMEOUT = 0.5  # seconds: a Redis on the local network answers in about a millisecond

def public_write_limit() -> str:
    return current_app.config.get("RATELIMIT_PUBLIC_WRITE") or "1000000/second"


def exempt_from_write_default() -> bool:
    if request.method in SAFE_METHODS or not current_app.config.get("RATELIMIT_PUBLIC_WRITE"):
        return True
    return request.endpoint in current_app.extensions["ops"]["limits"].write_default_exempt


OWN_UNLIMITED = frozenset({"ops.healthz", "ops.readyz", "metrics.metrics_view"})


@dataclass(frozen=True)
class LimitPlan:
    """The app's registered rules (service/ops/registry.py), frozen when ops starts."""

    optional: Mapping[str, str]  # endpoint -> the setting holding its limit (no limit work while unset)
    unlimited: frozenset[str]
    write_default_exempt: frozenset[str]

    @classmethod
    def of(cls, registered: Registry) -> LimitPlan:
        return cls(dict(registered.optional_limits), OWN_UNLIMITED | registered.unlimited,
                   frozenset(registered.write_default_exempt))


def skip_limiter() -> bool:
    """Flask-Limiter request filter: no limit work at all for the unlimited hot endpoints.

    Resolving limits costs about 0.1 ms per request even when none applies, as much as a progress
    cache hit itself; the filter is checked before any of that work.
    """
    plan = current_app.extensions["ops"]["limits"]
    endpoint = request.endpoint
    setting = plan.optional.get(endpoint)
    if setting is not None:
        return not current_app.config.get(setting)
    return endpoint in plan.unlimited


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


def apply(app: Flask, plan: LimitPlan) -> None:
    """Attaches the registered optional limits (those whose setting is set) to the features' views."""
    warning = per_process_warning(app.config, os.environ)
    if warning:
        log.warning(warning)
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    for endpoint, setting in plan.optional.items():
        view = app.view_functions.get(endpoint)
        if not app.config.get(setting) or view is None or getattr(view, "__wrapper-limiter-instance", None):
            continue  # no wrapper at all: the limiter's per-request work is a measurable part of a cache hit
        # Flask-Limiter checks a decorated limit inside the wrapper it returns: install the wrapper.
        app.view_functions[endpoint] = _optional_rule(setting)(view)


_optional_rules: dict[str, Any] = {}


def _optional_rule(setting: str):  # noqa: ANN202
    """The limit in `setting`, read at request time (a test or operator may change it). One decorator per
    setting for the process: Flask-Limiter keeps decorated limits per view name, and one limiter serves
    every app, so a new decorator per app would count each request once per app built."""
    rule = _optional_rules.get(setting)
    if rule is None:
        rule = _optional_rules[setting] = limiter.limit(
            lambda: current_app.config.get(setting) or "1000000/second",
            exempt_when=lambda: not current_app.config.get(setting))
    return rule
