"""A small per-process cache of rendered progress responses (no Flask here).

Each entry lives `ttl` seconds, so a change in the count shows within ttl (plus the HTTP max-age
that downstream caches add). When computing a fresh entry fails with one of `stale_on` (the
database is down), the last good entry is served, marked stale, until the database answers again;
a worker with no entry of its own serves the last document any worker saved (`snapshots`, see
snapshot.py), marked stale the same way.

A key whose load fails (an unknown campaign) leaves nothing behind: no entry, no lock.

Time is read from `time` (the app clock's `monotonic`, so tests move it instead of sleeping). Each entry
carries the headers of its 200 response (`Content-Type`, `ETag`, `Cache-Control`, and `X-Data-Stale` on a
stale one), so every surface that serves it says the same. A stale document's body also says so:
`"stale": true` and `"stale_since"`, when its data was last read from the database (`wall`, the app clock's
`now`; a snapshot's file time), so a client can stop showing a number that has been stale too long.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

STALE_CACHE_CONTROL = "public, max-age=1"  # a stale document: downstream caches keep it briefly


@dataclass(frozen=True)
class Document:
    """A rendered progress document: its bytes, entity tag, expiry (cache time), staleness and the headers
    of its 200 response."""

    body: bytes
    etag: str
    expires: float
    stale: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    fresh_at: datetime | None = None  # when its data was read from the database (None: unknown)

    @property
    def data(self) -> dict[str, Any]:
        """The document as plain data (a fresh copy: callers may change it)."""
        return json.loads(self.body)


class Snapshots(Protocol):
    def save(self, key: tuple, body: bytes) -> None: ...
    def load(self, key: tuple) -> bytes | None: ...
    def saved_at(self, key: tuple) -> datetime | None: ...


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _mark_stale(body: bytes, fresh_at: datetime | None) -> bytes:
    """The document with `stale: true` and `stale_since` (the epoch when unknown: as old as can be)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    since = fresh_at or datetime(1970, 1, 1, tzinfo=UTC)
    data["stale"] = True
    data["stale_since"] = since.astimezone(UTC).isoformat()
    return json.dumps(data, ensure_ascii=False).encode()


class ProgressCache:
    def __init__(self, ttl: float, max_entries: int = 10_000,
                 stale_on: tuple[type[BaseException], ...] = (), snapshots: Snapshots | None = None,
                 time: Callable[[], float] = _time.monotonic, cache_control: str = "no-cache",
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC), vary: str = "") -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.stale_on = stale_on
        self.snapshots = snapshots
        self.time = time
        self.wall = wall
        self.cache_control = cache_control
        self.vary = vary  # request headers the key is made from (Vary of every answer)
        self.entries: dict[tuple, Document] = {}
        self.hits = 0
        self.misses = 0
        self._locks: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, load: Callable[[], bytes]) -> Document:
        entry = self.entries.get(key)
        if entry is not None and entry.expires > self.time():
            self.hits += 1
            return entry
        lock = self._locks.setdefault(key, threading.Lock())
        # One thread per key recomputes. The others wait for its result when there is nothing to
        # serve yet, and otherwise serve the previous entry: a database that hangs must not hold
        # every thread of the worker.
        if entry is not None and not lock.acquire(blocking=False):
            self.hits += 1
            return entry
        if entry is None:
            lock.acquire()
        try:
            entry = self.entries.get(key)
            if entry is not None and entry.expires > self.time():
                self.hits += 1
                return entry
            self.misses += 1
            try:
                body = load()
            except self.stale_on:
                stale = self._stale(key, entry)
                if stale is None:
                    raise
                return stale
            fresh = self._entry(body, _etag(body), stale=False, fresh_at=self.wall())
            if self.snapshots is not None and (entry is None or entry.etag != fresh.etag):
                self.snapshots.save(key, body)
            self._store(key, fresh)
            return fresh
        finally:
            if key not in self.entries and self._locks.get(key) is lock:
                del self._locks[key]  # nothing was stored (unknown campaign, outage): keep nothing
            lock.release()

    def _stale(self, key: tuple, entry: Document | None) -> Document | None:
        """The last good document, marked stale (the database is tried again once the ttl has passed):
        this worker's entry, else the snapshot any worker saved; None when there is neither."""
        if entry is not None:
            body, fresh_at = entry.body, entry.fresh_at
        else:
            body = self.snapshots.load(key) if self.snapshots is not None else None
            if body is None:
                return None
            fresh_at = self.snapshots.saved_at(key)  # type: ignore[union-attr]
        body = _mark_stale(body, fresh_at)
        stale = self._entry(body, _etag(body), stale=True, fresh_at=fresh_at)
        self._store(key, stale)
        return stale

    def _entry(self, body: bytes, etag: str, *, stale: bool, fresh_at: datetime | None = None) -> Document:
        headers = [("Content-Type", "application/json"), ("ETag", etag)]
        if self.vary:
            headers.append(("Vary", self.vary))
        if stale:
            headers += [("Cache-Control", STALE_CACHE_CONTROL), ("X-Data-Stale", "true")]
        else:
            headers.append(("Cache-Control", self.cache_control))
        return Document(body, etag, self.time() + self.ttl, stale, tuple(headers), fresh_at)

    def _store(self, key: tuple, entry: Document) -> None:
        if key not in self.entries and len(self.entries) >= self.max_entries:
            self.entries.clear()
            self._locks.clear()
        self.entries[key] = entry

    def clear(self) -> None:
        self.entries.clear()
