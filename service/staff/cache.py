"""A small per-process cache of the dashboard's aggregates (no Flask here).

Entries are keyed by the campaign's counter state (id, updated_at, members_counted,
adjustments_total): every change to its roll-ups goes through the counter, which moves updated_at,
so a changed campaign misses at once. `ttl` bounds how long the parts that are not counted there
(widget and checkout counters) can lag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class AggregateCache:
    def __init__(self, ttl: float, max_entries: int = 256) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        if self.ttl <= 0:
            return load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            self.hits += 1
            return entry[1]
        self.misses += 1
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
