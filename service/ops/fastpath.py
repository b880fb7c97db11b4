"""A WSGI fast path for the registered hot route (the progress JSON, `registry.fast_route`): cache hits
answered without Flask's request machinery, with the headers Flask itself produced for the same entry.

When Flask serves a GET of the route with a 200, the final status line and headers (after every hook:
security headers, CORS, cache headers) are recorded against the cache entry it served and the request's
`Origin`. Until that entry expires, the same request is answered from the record with its own request
id and counted in the metrics like any other request. Conditional requests, HEAD and other methods,
stale entries, responses that set cookies, and settings that need the whole pipeline for every request
(the route's rate limit, `LOG_REQUESTS=all`) go through Flask.

The invariant this rests on: the route's 200 answers depend on nothing but the cache entry and `Origin`
(and the request id); the route's key function sees the path, the query string and `Accept-Language`.
tests/test_ops_fastpath.py checks it by comparing, for many requests with varied headers, cookies and query
parameters, the fast answer with Flask's answer to the same request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from service.ops.registry import FastRoute

MAX_RECORDS = 4096


class FastPath:
    def __init__(self, wsgi_app: Callable, route: FastRoute, request_id: Callable[[dict], str],
                 on_hit: Callable[[float], None]) -> None:
        self.wsgi_app = wsgi_app
        self.cache = route.cache
        self.key_of = route.key
        self.request_id = request_id
        self.on_hit = on_hit
        self.records: dict[tuple, tuple[Any, str, list[tuple[str, str]]]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_IF_NONE_MATCH"):
            return self.wsgi_app(environ, start_response)
        t0 = perf_counter()
        key = self.key_of(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                          environ.get("HTTP_ACCEPT_LANGUAGE"))
        if key is None:
            return self.wsgi_app(environ, start_response)
        record_key = (key, environ.get("HTTP_ORIGIN"))
        entry = self.cache.entries.get(key)
        record = self.records.get(record_key)
        if (record is not None and entry is not None and record[0] is entry and not entry.stale
                and entry.expires > self.cache.time()):
            self.cache.hits += 1
            start_response(record[1], [*record[2], ("X-Request-ID", self.request_id(environ))])
            self.on_hit(perf_counter() - t0)
            return [entry.body]

        captured: list = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        if captured and captured[0].startswith("200 "):
            self._remember(record_key, key, captured[0], captured[1])
        return body

    def _remember(self, record_key: tuple, key: tuple, status: str, headers: list[tuple[str, str]]) -> None:
        entry = self.cache.entries.get(key)
        names = {name.lower(): value for name, value in headers}
        if entry is None or entry.stale or names.get("etag") != entry.etag or "set-cookie" in names:
            return
        if len(self.records) >= MAX_RECORDS:
            self.records.clear()
        self.records[record_key] = (entry, status, [(n, v) for n, v in headers if n.lower() != "x-request-id"])
