"""A small per-process cache of rendered progress responses (no Flask here).

Each entry lives `ttl` seconds, so a change in the count shows within ttl (plus the HTTP max-age
that downstream caches add). When computing a fresh entry fails with one of `stale_on` (the
database is down), the last good entry is served, marked stale, until the database answers again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    body: bytes
    etag: str
    expires: float
    stale: bool = False


class ProgressCache:
    def __init__(self, ttl: float, max_entries: int = 10_000,
                 stale_on: tuple[type[BaseException], ...] = ()) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.stale_on = stale_on
        self.entries: dict[tuple, Entry] = {}
        self.hits = 0
        self.misses = 0
        self._locks: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, load: Callable[[], bytes]) -> Entry:
        entry = self.entries.get(key)
        now = time.monotonic()
        if entry is not None and entry.expires > now:
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
            if entry is not None and entry.expires > time.monotonic():
                self.hits += 1
                return entry
            self.misses += 1
            try:
                body = load()
            except self.stale_on:
                if entry is None:
                    raise
                # Keep serving it, marked stale; the database is tried again once the ttl has passed.
                stale = Entry(entry.body, entry.etag, time.monotonic() + self.ttl, stale=True)
                self.entries[key] = stale
                return stale
            fresh = Entry(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
                          time.monotonic() + self.ttl)
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
                self._locks.clear()
            self.entries[key] = fresh
            return fresh
        finally:
            lock.release()

    def clear(self) -> None:
        self.entries.clear()
