"""The one source of "now". Domain code takes `now` as an argument; views ask the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """Wall clock in UTC; tests freeze it with `set()` and move it with `advance()`."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def set(self, when: datetime | None) -> None:
        if when is not None and when.tzinfo is None:
            raise ValueError("the clock takes time-zone-aware datetimes")
        self._frozen = when

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self._frozen = self.now() + timedelta(**delta)


def now() -> datetime:
    """Now from the current app's clock: the one getter for views and CLI commands (inside an app context).
    Domain code never calls it; it takes `now` as an argument."""
    from flask import current_app

    return current_app.extensions["clock"].now()
