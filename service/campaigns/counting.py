"""The counting rule, as pure functions (no Flask, no database).

A member counts toward a campaign when they joined inside the campaign's window [starts_at, ends_at),
once per person, plus the campaign's adjustments, never below zero. A member joins with their first
successful membership payment (`first_paid_at`) or the first redemption of a gift membership
(`gift_redeemed_at`, service/gifts), whichever came first. A gift counts its recipient when it is
redeemed, never when it is bought: its buyer counts only by joining themselves, an unredeemed gift
counts nobody, and a one-time contribution is not membership.

- `net` (default): a member stops counting when the membership has ended (`ended_at` set: canceled and
  the paid period over, or unpaid; and, for a member with a gift, the gift period over too:
  `gift_ended_at`) or the joining fact went away (the first payment fully refunded or lost in a dispute;
  every redeemed gift refunded).
- `gross`: only the joining fact going away removes them.

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
    gift_redeemed_at: datetime | None = None  # first redemption of a gift still standing
    gift_ended_at: datetime | None = None  # set once the gift period is over


def joined_at(facts: MemberFacts) -> datetime | None:
    """When the member joined, for the count: the first membership payment (unless it came back) or the
    first redemption of a gift still standing, whichever came first; None: not a member to count."""
    paid = facts.first_paid_at if facts.reversed_at is None else None
    times = [t for t in (paid, facts.gift_redeemed_at) if t is not None]
    return min(times) if times else None


def ended_at(facts: MemberFacts) -> datetime | None:
    """When the membership ended: None while the paid membership or the gift still runs, else the later
    of their ends (a gift redeemed by a lapsed member makes them a member again, and the other way round)."""
    ends = []
    if facts.first_paid_at is not None and facts.reversed_at is None:
        if facts.ended_at is None:
            return None
        ends.append(facts.ended_at)
    if facts.gift_redeemed_at is not None:
        if facts.gift_ended_at is None:
            return None
        ends.append(facts.gift_ended_at)
    return max(ends) if ends else None


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
    joined = joined_at(facts)
    if joined is None or not window.contains(joined):
        return False
    return window.count_mode == "gross" or ended_at(facts) is None


def contributions(facts: MemberFacts, window: Window) -> Counter[Key]:
    out: Counter[Key] = Counter()
    joined = joined_at(facts)
    if joined is None or not window.contains(joined):
        return out
    dims = (facts.plan or "", facts.locale or "", facts.source or "")
    out[(window.day_of(joined), *dims, "joined")] += 1
    ended = ended_at(facts) if window.count_mode == "net" else None
    if ended is not None:
        out[(max(window.day_of(ended), window.day_of(joined)), *dims, "ended")] += 1
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
