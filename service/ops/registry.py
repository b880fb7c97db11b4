"""What the feature packages tell ops about themselves: ops imports no feature, each feature's `init_app`
registers here (`registry.of(app)`), and ops' own `init_app` (the last feature) reads it.

- CORS resources (path regex -> Flask-CORS options; `public_cors` builds the usual ones);
- security-header classes: endpoints and path prefixes other sites load (`Cross-Origin-Resource-Policy:
  cross-origin`), and path prefixes of pages other sites may frame (their view sets its own CSP with
  `frame-ancestors`; ops then leaves out `X-Frame-Options`);
- rate limits: endpoints limited only when a setting is set (otherwise the limiter does no work for them
  at all), endpoints exempt from the public write default, endpoints never limited;
- degraded answers while the database is down, per endpoint;
- metric gauges read at scrape time, and caches whose hits and misses feed the progress-cache counters;
- quiet endpoints, whose successful answers are not logged under LOG_REQUESTS=except-progress;
- at most one fast route: a hot GET answered from a cache before Flask (ops/fastpath.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Fallback = Callable[[BaseException], Any]  # the degraded response, or None for the default 503


@dataclass(frozen=True)
class Gauges:
    """Gauge families read together at scrape time: `read(session)` gives rows of (label value, then one value
    per family); ops/metrics.py makes the Prometheus families (features need no Prometheus code)."""

    label: str
    families: tuple[tuple[str, str], ...]  # (name, help) per value column
    read: Callable[[Any], Iterable[tuple]]


@dataclass(frozen=True)
class FastRoute:
    """A GET endpoint whose 200 answers depend only on a cache entry (and the request's Origin)."""

    endpoint: str
    # (PATH_INFO, QUERY_STRING, HTTP_ACCEPT_LANGUAGE or None) -> the cache key, None: another path
    key: Callable[[str, str, str | None], tuple | None]
    cache: Any  # .entries (key -> entry with .stale, .expires), .time(), .hits


@dataclass
class Registry:
    cors: dict[str, dict[str, Any]] = field(default_factory=dict)
    cross_origin_endpoints: set[str] = field(default_factory=set)
    cross_origin_prefixes: list[str] = field(default_factory=list)
    framable_prefixes: list[str] = field(default_factory=list)
    optional_limits: dict[str, str] = field(default_factory=dict)  # endpoint -> setting holding its limit
    write_default_exempt: set[str] = field(default_factory=set)
    unlimited: set[str] = field(default_factory=set)
    fallbacks: dict[str, Fallback] = field(default_factory=dict)
    gauges: list[Gauges] = field(default_factory=list)
    counted_caches: dict[str, Any] = field(default_factory=dict)  # endpoint -> cache with .hits, .misses
    quiet_endpoints: set[str] = field(default_factory=set)
    fast_route: FastRoute | None = None


def of(app: Any) -> Registry:
    """The app's registry (made by the first feature that registers something)."""
    return app.extensions.setdefault("ops_registry", Registry())


def public_cors(origins: list[str]) -> dict[str, Any]:
    """Flask-CORS options for what pages on other sites read or post without credentials: the listed
    origins, or every origin with `*` (an empty list or one holding `*`), so one cached copy serves all."""
    wildcard = not origins or "*" in origins
    return {
        "origins": "*" if wildcard else origins,
        "send_wildcard": wildcard,  # '*' rather than the echoed Origin: no Vary, one cached copy
        "supports_credentials": False,
        "methods": ["GET", "HEAD", "POST", "OPTIONS"],
        "allow_headers": ["Content-Type"],
        "max_age": 86400,
    }
