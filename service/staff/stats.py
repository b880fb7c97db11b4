"""Pure aggregation helpers for the dashboard (no Flask, no database).

The database hands over small grouped rows (one per day or per plan/source/locale, read from the
`campaign_daily` roll-ups), so everything here is linear in days or groups, never in members.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Day:
    day: date
    joined: int
    ended: int

    @property
    def net(self) -> int:
        return self.joined - self.ended


@dataclass(frozen=True)
class Share:
    key: str
    joined: int
    ended: int
    net: int
    percent: float  # of all sign-ups (joined)


@dataclass(frozen=True)
class FunnelStep:
    name: str
    count: int
    rate: float | None  # percent of the previous step; None for the first or after a zero


def dense_days(rows: Iterable[tuple[date, int, int]], first: date, last: date) -> list[Day]:
    """One entry per day from first to last (inclusive), zeros where the roll-ups have no row."""
    by_day: dict[date, list[int]] = {}
    for day, joined, ended in rows:
        acc = by_day.setdefault(day, [0, 0])
        acc[0] += int(joined or 0)
        acc[1] += int(ended or 0)
    out = []
    d = first
    while d <= last:
        joined, ended = by_day.get(d, (0, 0))
        out.append(Day(d, joined, ended))
        d += timedelta(days=1)
    return out


def cumulative(days: list[Day], adjustments: dict[date, int] | None = None) -> list[tuple[date, int]]:
    """Running count at the end of each day: members (joined - ended) plus adjustments made that day,
    never below zero (as on the banner). Adjustments dated before the first day count on the first day."""
    adjustments = adjustments or {}
    if not days:
        return []
    running = sum(v for d, v in adjustments.items() if d < days[0].day)
    out = []
    for d in days:
        running += d.net + adjustments.get(d.day, 0)
        out.append((d.day, max(0, running)))
    return out


def on_track_line(first: date, deadline: date, goal: int) -> list[tuple[date, float]]:
    """The straight line from 0 at the start to the goal at the end of the last day."""
    return [(first, 0.0), (deadline, float(goal))]


def projection_line(today: date, count: int, daily_average: float, goal: int, deadline: date
                    ) -> list[tuple[date, float]]:
    """From today's count at the 7-day pace until the goal is reached or the deadline, whichever first.
    Empty when the pace is not positive or the goal is already reached."""
    if daily_average <= 0 or count >= goal or today > deadline:
        return []
    days_to_goal = math.ceil((goal - count) / daily_average)
    end = min(deadline, today + timedelta(days=days_to_goal))
    value = count + daily_average * (end - today).days
    return [(today, float(count)), (end, float(min(goal, value)))]


def breakdown(rows: Iterable[tuple[str | None, int, int]], unknown: str = "(unknown)") -> list[Share]:
    """Sign-ups by one dimension, largest net first; '' (no attribution) is shown as `unknown`."""
    merged: dict[str, list[int]] = {}
    for key, joined, ended in rows:
        acc = merged.setdefault(key or unknown, [0, 0])
        acc[0] += int(joined or 0)
        acc[1] += int(ended or 0)
    total = sum(j for j, _ in merged.values())
    shares = [Share(k, j, e, j - e, round(j * 100.0 / total, 1) if total else 0.0) for k, (j, e) in merged.items()]
    return sorted(shares, key=lambda s: (-s.net, -s.joined, s.key))


def funnel(steps: list[tuple[str, int]]) -> list[FunnelStep]:
    out: list[FunnelStep] = []
    previous: int | None = None
    for name, count in steps:
        rate = round(count * 100.0 / previous, 1) if previous else None
        out.append(FunnelStep(name, int(count), rate))
        previous = int(count)
    return out
