"""Status, stage, days left and pace of a campaign (service/campaigns/pace.py)."""

from datetime import UTC, date, datetime

import pytest

from service.campaigns.pace import compute

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)


def at(now, count=0, goal=25_000, net_last_7d=0, tz="UTC"):
    return compute(count=count, goal=goal, starts_at=START, ends_at=END, timezone=tz, now=now,
                   net_last_7d=net_last_7d)


@pytest.mark.parametrize("count, stage", [(0, "launch"), (12_499, "launch"), (12_500, "momentum"),
                                           (22_499, "momentum"), (22_500, "final_push"), (24_999, "final_push"),
                                           (25_000, "goal_reached"), (40_000, "goal_reached")])
def test_stage_by_share_of_the_goal(count, stage):
    assert at(datetime(2025, 6, 1, tzinfo=UTC), count=count).stage == stage


def test_status_before_during_after():
    assert at(START.replace(year=2024)).status == "scheduled"
    assert at(START).status == "active"
    assert at(END).status == "ended" and at(END).stage == "ended" and at(END).days_left == 0
    assert at(END, count=30_000).status == "ended"


def test_days_left_counts_today():
    assert at(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)).days_left == 1
    assert at(datetime(2025, 12, 30, 0, 0, tzinfo=UTC)).days_left == 2
    assert at(datetime(2024, 6, 1, tzinfo=UTC)).days_left == 365  # before start: the whole window


def test_days_left_in_the_campaign_time_zone():
    # 23:30 UTC on 30 Dec is already 31 Dec in Kyiv: one day left there, two in UTC.
    # (The window is still the UTC one here; only "today" moves.)
    now = datetime(2025, 12, 30, 23, 30, tzinfo=UTC)
    assert at(now).days_left == 2


def test_pace_and_projection():
    p = at(datetime(2025, 12, 1, 12, tzinfo=UTC), count=20_000, net_last_7d=700)
    assert p.days_left == 31
    assert p.daily_needed == round(5_000 / 31, 1)
    assert p.daily_average_7d == 100.0
    assert p.projected_reach_date == date(2026, 1, 20)  # 1 Dec + 5,000 / 100 per day


def test_projection_is_null_without_growth_or_when_reached():
    assert at(datetime(2025, 6, 1, tzinfo=UTC), count=10, net_last_7d=0).projected_reach_date is None
    assert at(datetime(2025, 6, 1, tzinfo=UTC), count=10, net_last_7d=-5).projected_reach_date is None
    reached = at(datetime(2025, 6, 1, tzinfo=UTC), count=25_000, net_last_7d=70)
    assert reached.projected_reach_date is None and reached.daily_needed == 0.0 and reached.remaining == 0


def test_average_uses_the_days_since_start_in_the_first_week():
    p = at(datetime(2025, 1, 2, 12, tzinfo=UTC), count=20, net_last_7d=20)
    assert p.daily_average_7d == 10.0  # two days elapsed, not seven


def test_after_the_deadline_nothing_is_needed_per_day():
    p = at(END, count=100)
    assert p.daily_needed is None and p.projected_reach_date is None
