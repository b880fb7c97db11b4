"""Prometheus metrics: requests, latency, webhook events, progress cache, and the gauges features register
(`registry.gauges`, read at scrape time: the count per campaign).

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py before the workers import the app)
makes prometheus-client keep counters in files shared by the workers, so one scrape sees all of
them. Per-request work is one pre-resolved counter child and one histogram child per
(endpoint, method, status): a dict lookup and two increments.

`record_webhook(event_type, outcome)` is for the payments code: call it once per received event.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# prometheus-client turns multi-process mode on when the variable merely exists; an empty value would
# then put its files in the current directory. Empty means off here.
for _name in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
    if _name in os.environ and not os.environ[_name].strip():
        del os.environ[_name]

from prometheus_client import (  # noqa: E402 - after the environment check above
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric  # noqa: E402

from service.ops.registry import Gauges  # noqa: E402

disable_created_metrics()  # `*_created` series double the scrape for no use here
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter("http_requests_total", "HTTP requests by route, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer an HTTP request, by route",
                    ["endpoint"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
WEBHOOKS = Counter("webhook_events_total", "Stripe webhook events by type and outcome", ["type", "outcome"])
CACHE_HITS = Counter("progress_cache_hits_total", "Progress responses served from the per-worker cache")
CACHE_MISSES = Counter("progress_cache_misses_total", "Progress responses computed from the database")
DB_ERRORS = Counter("database_unavailable_total", "Requests answered in degraded mode because the database failed",
                    ["endpoint"])

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
UNMATCHED = "<unmatched>"


def record_request(rule: str | None, method: str, status: int, seconds: float) -> None:
    """Counts one request; the label is the URL rule (`/v1/campaigns/<slug>/progress`), never the raw path."""
    key = (rule or UNMATCHED, method, status)
    pair = _children.get(key)
    if pair is None:
        pair = _children.setdefault(key, (REQUESTS.labels(key[0], method, str(status)), LATENCY.labels(key[0])))
    pair[0].inc()
    pair[1].observe(seconds)


def record_webhook(event_type: str, outcome: str) -> None:
    """One Stripe event: outcome such as `applied`, `duplicate`, `ignored`, `invalid_signature`, `error`."""
    WEBHOOKS.labels((event_type or "unknown")[:64], (outcome or "unknown")[:32]).inc()


def record_db_unavailable(rule: str | None) -> None:
    DB_ERRORS.labels(rule or UNMATCHED).inc()


class CacheSync:
    """Moves the progress cache's own hit/miss numbers into the (multi-process) counters.

    The cache (service/campaigns/cache.py) counts with plain integers; after each request the
    difference since the last sync is added to the counters, so the cache needs no Prometheus code.
    """

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def sync(self, cache: Any) -> None:
        if cache is None or not self._lock.acquire(blocking=False):
            return
        try:
            hits, misses = cache.hits, cache.misses
            if hits < self.hits or misses < self.misses:  # a new cache object (tests build many apps)
                self.hits = self.misses = 0
            if hits > self.hits:
                CACHE_HITS.inc(hits - self.hits)
                self.hits = hits
            if misses > self.misses:
                CACHE_MISSES.inc(misses - self.misses)
                self.misses = misses
        finally:
            self._lock.release()


class ScrapeGauges:
    """The registered gauges, read at scrape time, then `database_up` (0 when any of them failed to read)."""

    def __init__(self, families: Iterable[Metric], error: bool = False) -> None:
        self.families = list(families)
        self.error = error

    def collect(self) -> Iterator[Metric]:
        yield from self.families
        up = GaugeMetricFamily("database_up", "1 when the scrape could read the database")
        up.add_metric([], 0 if self.error else 1)
        yield up


def read_gauges(sources: Iterable[Gauges], session: Any, discard: Callable[[], None]) -> ScrapeGauges:
    """Each registered source read with `session`; one that fails (the database is down) gives its families
    without samples, `discard` drops the broken session, and database_up says 0."""
    families: list[Metric] = []
    error = False
    for source in sources:
        try:
            rows = list(source.read(session))
        except Exception:  # noqa: BLE001 - a scrape still answers (database_up 0) when the database is down
            error = True
            discard()
            rows = []
        gauges = [GaugeMetricFamily(name, text, labels=[source.label]) for name, text in source.families]
        for label, *values in rows:
            for gauge, value in zip(gauges, values, strict=True):
                gauge.add_metric([label], value)
        families += gauges
    return ScrapeGauges(families, error)


def exposition(gauges: ScrapeGauges) -> tuple[bytes, str]:
    """The text exposition of every metric: this process's (or all workers') plus the scraped gauges."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(gauges)
    return body + generate_latest(extra), CONTENT_TYPE_LATEST


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]


def address_allowed(address: str | None, networks: list[Any]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
