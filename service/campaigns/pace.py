"""Status, stage and pace of a campaign at a moment (pure functions).

- status: `scheduled` before the window, `ended` after it, else `goal_reached` once count >= goal,
  else `active`.
- stage (picks the banner copy): `scheduled`, `ended`, `goal_reached`, else by percent of the goal:
  `launch` under 50%, `momentum` from 50%, `final_push` from 90%; with a stretch goal (`original_goal`
  given: the goal was reached and replaced by a larger one), `overtime` until the stretch goal is reached.
- days_left: calendar days left in the campaign's time zone, today included (0 once ended).
- hours_left: whole hours (rounded up) until the window's end, the local midnight after its last day, so
  a day with a daylight-saving change counts 23 or 25 hours; the whole window before it starts, 0 once ended.
- pace: `daily_needed` = remaining / days_left; `daily_average_7d` = net growth (joined - ended) over
  the last 7 days (fewer at the start of the window) per day; `projected_reach_date` = today +
  remaining / average, or None when the average is not positive or the goal is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Pace:
    count: int
    goal: int
    remaining: int
    percent: float
    percent_of_goal: float
    status: str
    stage: str
    days_left: int
    deadline: date
    hours_left: int
    daily_needed: float | None
    daily_average_7d: float
    projected_reach_date: date | None
    original_goal: int | None = None
    contributors: int = 0  # people who gave once in the window (payments/contributions.py); never in count


def last_day(ends_at: datetime, timezone: str) -> date:
    """The window's last day (inclusive) in local time; ends_at is the exclusive midnight after it."""
    return (ends_at - timedelta(microseconds=1)).astimezone(ZoneInfo(timezone)).date()


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def average_window(now: datetime, starts_at: datetime, timezone: str) -> tuple[date, int]:
    """First day and length (1..7) of the 7-day average, clipped to the campaign's start."""
    today = local_today(now, timezone)
    first = today - timedelta(days=6)
    start_day = local_today(starts_at, timezone)
    if first < start_day:
        first = start_day
    days = max(1, (today - first).days + 1)
    return first, min(days, 7)


def compute(*, count: int, goal: int, starts_at: datetime, ends_at: datetime, timezone: str,
            now: datetime, net_last_7d: int = 0, original_goal: int | None = None, contributors: int = 0) -> Pace:
    remaining = max(0, goal - count)
    percent_of_goal = math.floor(count * 1000 / goal) / 10  # rounded down: 100% only at the goal
    percent = min(100.0, percent_of_goal)
    deadline = last_day(ends_at, timezone)
    today = local_today(now, timezone)

    if now < starts_at:
        status = "scheduled"
        days_left = (deadline - local_today(starts_at, timezone)).days + 1
    elif now >= ends_at:
        status = "ended"
        days_left = 0
    else:
        status = "goal_reached" if count >= goal else "active"
        days_left = (deadline - today).days + 1

    if status in ("scheduled", "ended", "goal_reached"):
        stage = status
    elif original_goal is not None:
        stage = "overtime"
    elif count * 2 < goal:  # exact ratios: 49.996% is still the launch stage
        stage = "launch"
    elif count * 10 < goal * 9:
        stage = "momentum"
    else:
        stage = "final_push"

    if remaining == 0:
        daily_needed: float | None = 0.0
    elif days_left > 0:
        daily_needed = round(remaining / days_left, 1)
    else:
        daily_needed = None

    hours_left = _hours_until(ends_at, starts_at if status == "scheduled" else now) if status != "ended" else 0

    _, window_days = average_window(now, starts_at, timezone)
    raw_average = net_last_7d / window_days if status != "scheduled" else 0.0
    projected = None
    if remaining > 0 and raw_average > 0 and status == "active":
        projected = today + timedelta(days=math.ceil(remaining / raw_average))

    return Pace(count=count, goal=goal, remaining=remaining, percent=percent,
                    percent_of_goal=percent_of_goal, status=status, stage=stage, days_left=days_left,
                    deadline=deadline, hours_left=hours_left, daily_needed=daily_needed,
                    daily_average_7d=round(raw_average, 1), projected_reach_date=projected,
                    original_goal=original_goal, contributors=contributors)


def _hours_until(end: datetime, start: datetime) -> int:
    return max(0, math.ceil((end - start).total_seconds() / 3600))
