"""The counting rule, as pure functions (no Flask, no database).

A member counts toward a campaign when their first successful membership payment (`first_paid_at`)
falls inside the campaign's window [starts_at, ends_at), once per person, plus the campaign's
adjustments, never below zero.

- `net` (default): a member stops counting when the membership has ended (`ended_at` set: canceled and
  the paid period over, or unpaid) or the first payment was fully refunded or lost in a dispute.
- `gross`: only that refund or lost dispute removes them.

A member's effect on a campaign is a set of *contributions* to the daily roll-up: +1 `joined` on the
day of the first payment and, in net mode, +1 `ended` on the day the membership ended. Any change to a
member is applied as contributions(after) - contributions(before), so the counter depends only on the
members' current state, never on the order in which their changes arrived.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class MemberFacts:
    """What of a member the count depends on."""

    first_paid_at: datetime | None
    ended_at: datetime | None = None
    reversed_at: datetime | None = None
    plan: str = ""
    locale: str = ""
    source: str = ""


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    count_mode: str = "net"

    def contains(self, when: datetime) -> bool:
        return self.starts_at <= when < self.ends_at

    def day_of(self, when: datetime) -> date:
        return when.astimezone(ZoneInfo(self.timezone)).date()


# (day, plan, locale, source, column) -> +n ; column is "joined" or "ended"
Key = tuple[date, str, str, str, str]


def counts(facts: MemberFacts, window: Window) -> bool:
    """Whether this member is counted in this campaign now."""
    if facts.first_paid_at is None or not window.contains(facts.first_paid_at):
        return False
    if facts.reversed_at is not None:
        return False
    return window.count_mode == "gross" or facts.ended_at is None


def contributions(facts: MemberFacts, window: Window) -> Counter[Key]:
    out: Counter[Key] = Counter()
    if facts.first_paid_at is None or facts.reversed_at is not None:
        return out
    if not window.contains(facts.first_paid_at):
        return out
    dims = (facts.plan or "", facts.locale or "", facts.source or "")
    out[(window.day_of(facts.first_paid_at), *dims, "joined")] += 1
    if window.count_mode == "net" and facts.ended_at is not None:
        ended_day = max(window.day_of(facts.ended_at), window.day_of(facts.first_paid_at))
        out[(ended_day, *dims, "ended")] += 1
    return out


def change(before: MemberFacts | None, after: MemberFacts | None, window: Window) -> Counter[Key]:
    """Roll-up deltas (may be negative) turning `before`'s contributions into `after`'s."""
    delta: Counter[Key] = Counter()
    if after is not None:
        delta.update(contributions(after, window))
    if before is not None:
        delta.subtract(contributions(before, window))
    return Counter({k: v for k, v in delta.items() if v})


def net_count(delta: Counter[Key]) -> int:
    """Change of the member count implied by roll-up deltas."""
    return sum(v if k[4] == "joined" else -v for k, v in delta.items())


def total(members_counted: int, adjustments_total: int) -> int:
    """The number on the banner (and in every report and metric): the counted members plus the adjustments,
    never below zero."""
    return max(0, members_counted + adjustments_total)
