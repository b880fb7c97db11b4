"""Access rules and the meter, as pure functions (no Flask, no database).

`meter()` decides a non-member's read of a members-only article from the reads already counted in the
rolling window; `decide()` combines it with the member's standing (`service.members.standing`) into the
answer of POST /v1/access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.members.standing import Standing

VISIBILITIES = ("public", "members")
REASONS = ("public", "member", "grace", "provisional", "metered", "meter_exhausted", "membership_lapsed",
           "degraded")  # degraded: the database is down and ACCESS_FAIL_MODE=open (service/paywall/degraded.py)


@dataclass(frozen=True)
class Meter:
    allowed: bool
    record: bool  # True: count this read now (insert, or move an expired read forward)
    limit: int
    used: int
    resets_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def window_start(now: datetime, period_days: int) -> datetime:
    """Reads at or before this instant have expired."""
    return now - timedelta(days=period_days)


def meter(counted: Sequence[tuple[str, datetime]], article_id: str, *, now: datetime, limit: int,
          period_days: int) -> Meter:
    """Decide a read from the reads counted in the window (article id, read at), oldest first or not.

    An article already counted in the window is free; a new one is allowed while fewer than `limit`
    articles are counted. `resets_at` is when the oldest counted read leaves the window.
    """
    start = window_start(now, period_days)
    live = [(read_at, article) for article, read_at in counted if read_at > start]
    oldest = min(live)[0] if live else None
    this = next((read_at for read_at, article in live if article == article_id), None)
    return meter_from(len(live), oldest, this, now=now, limit=limit, period_days=period_days)


def meter_from(used: int, oldest: datetime | None, this_read_at: datetime | None, *, now: datetime, limit: int,
               period_days: int) -> Meter:
    """`meter()` from a summary of the window, as one aggregate query gives it: the number of reads
    counted, the oldest one, and when this article was read (None: never; an expired read is not counted)."""
    period = timedelta(days=period_days)
    start = now - period
    if this_read_at is not None and this_read_at > start:
        return Meter(True, False, limit, used, (oldest or this_read_at) + period)
    if used < limit:
        return Meter(True, True, limit, used + 1, (oldest or now) + period)
    return Meter(False, False, limit, used, (oldest + period) if oldest else None)


@dataclass(frozen=True)
class Decision:
    access: str  # granted | denied
    reason: str
    metered: bool = False

    @property
    def granted(self) -> bool:
        return self.access == "granted"


def visibility_of(requested: str | None, section: str | None, section_defaults: dict[str, str]) -> str:
    """The article's own visibility, else its section's default, else `members`."""
    if requested in VISIBILITIES:
        return requested
    if section is not None and section_defaults.get(section) in VISIBILITIES:
        return section_defaults[section]
    return "members"


def decide(visibility: str, standing: Standing, meter_result: Meter | None) -> Decision:
    if visibility == "public":
        return Decision("granted", "public")
    if standing.kind == "member":
        return Decision("granted", "member")
    if standing.kind == "grace":
        return Decision("granted", "grace")
    if standing.kind == "provisional":
        return Decision("granted", "provisional")
    if standing.kind == "lapsed":
        return Decision("denied", "membership_lapsed")
    assert meter_result is not None, "non-members are metered"
    if meter_result.allowed:
        return Decision("granted", "metered", metered=True)
    return Decision("denied", "meter_exhausted", metered=True)


def show_prompt(access: str, reason: str, remaining: int | None) -> bool:
    """The appeal shows at the wall, and while a metered reader has one free article or none left."""
    if access == "denied":
        return True
    return reason == "metered" and remaining is not None and remaining <= 1

