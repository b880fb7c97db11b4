"""Conversion events of the widget: which counter a beacon adds to (pure; no Flask, no database).

A beacon carries a type, the locale of the copy shown and the page's path. Only (campaign, local day,
type, locale) is counted: no reader identifier, IP address, page or time of day is stored, so the
counters hold no personal data. The locale is reduced to one the campaign has copy in, so a client
cannot grow the table with made-up tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.campaigns import locales


def local_day(now: datetime, timezone: str) -> date:
    """The campaign's local day, as in its daily roll-up of sign-ups (the funnel compares the two)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def counted_locale(requested: str | None, default_locale: str, known: Iterable[str]) -> str:
    """The copy locale the reader saw, e.g. 'uk' or 'pt-BR'; the campaign's default for anything else."""
    known = set(known) | {default_locale}
    for candidate in locales.candidates(requested, default_locale):
        if candidate in known:
            return candidate.replace("_", "-")
    return default_locale.replace("_", "-")
