"""The one source of "now". Domain code takes `now` as an argument; views ask the app's clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall clock in UTC; tests freeze it with `set()` and move it with `advance()`."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._advanced = 0.0  # seconds advance() moved the clock: monotonic() moves with it

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds for measuring intervals (caches): `time.monotonic()` plus every `advance()`, so a test
        moves a cache's time with the clock instead of sleeping; it never goes back (`set()` leaves it)."""
        return time.monotonic() + self._advanced

    def set(self, when: datetime | None) -> None:
        if when is not None and when.tzinfo is None:
            raise ValueError("the clock takes time-zone-aware datetimes")
        self._frozen = when

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        step = timedelta(**delta)
        self._frozen = self.now() + step
        self._advanced += max(0.0, step.total_seconds())


def now() -> datetime:
    """Now from the current app's clock: the one getter for views and CLI commands (inside an app context).
    Domain code never calls it; it takes `now` as an argument."""
    from flask import current_app

    return current_app.extensions["clock"].now()
