"""Milestones, stretch goals and the countdown (issue 14, items 4 and 5).

- A crossing (the count first reaching a milestone or a goal) is recorded once, in the transaction that moved
  the counter, whether members or adjustments move it, and never again when the count dips and comes back.
- The progress JSON: `milestones` (reached, next, celebrating), the milestone's headline for its days,
  `original_goal` and the `overtime` stage after a stretch goal, `hours_left` and `{time_left}`.
- Staff manage them from the API (token), the dashboard's forms and the CLI; the chart marks crossings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.campaigns import milestones, pace, services, wording
from service.campaigns.models import Crossing
from service.staff import api_tokens
from tests import factories
from tests.staff_support import csrf, fast_hashing, make_staff, signed_in  # noqa: F401 - fixture

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PROGRESS = "/v1/campaigns/drive/progress"


@pytest.fixture
def drive(app, session, clock):
    """Goal 5, 1 May to 30 June 2025 (UTC); the clock at 1 June 12:00."""
    clock.set(T0)
    c = factories.campaign(session, clock.now(), slug="drive", goal=5, starts=date(2025, 5, 1),
                           ends=date(2025, 6, 30))
    session.commit()
    return c


def crossings(session, campaign):
    return [(x.at, x.kind, x.reached_at) for x in
            session.scalars(select(Crossing).where(Crossing.campaign_id == campaign.id).order_by(Crossing.at))]


def join(session, clock):
    return factories.member(session, clock.now(), first_paid_at=clock.now())


def test_a_milestone_crossed_twice_is_recorded_once(session, clock, drive):
    milestones.add_milestone(session, drive, at=2, headlines={}, show_days=3, who="t", now=clock.now())
    first = join(session, clock)
    assert crossings(session, drive) == []
    join(session, clock)  # the count reaches 2
    session.commit()
    crossed_at = clock.now()
    assert crossings(session, drive) == [(2, "milestone", crossed_at)]

    clock.advance(hours=5)
    first.ended_at = clock.now()  # the count dips to 1 ...
    session.flush()
    assert drive.count == 1
    clock.advance(hours=5)
    join(session, clock)  # ... and comes back to 2
    services.adjust(session, drive, delta=-1, reason="dip", who="t", now=clock.now())  # 1
    services.adjust(session, drive, delta=1, reason="back", who="t", now=clock.now())  # 2 again
    session.commit()
    assert drive.count == 2
    assert crossings(session, drive) == [(2, "milestone", crossed_at)]  # once, at the first time


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deltas=st.lists(st.integers(min_value=-3, max_value=3).filter(bool), min_size=1, max_size=12))
def test_any_walk_of_the_count_records_each_reached_target_once_at_its_first_time(session, clock, drive, deltas):
    session.execute(Crossing.__table__.delete())
    session.execute(milestones.Milestone.__table__.delete())
    drive.adjustments_total = 0
    session.flush()
    for at in (2, 4):
        milestones.add_milestone(session, drive, at=at, headlines={}, show_days=1, who="t", now=clock.now())
    first_reached: dict[int, datetime] = {}
    for i, delta in enumerate(deltas):
        now = T0 + timedelta(minutes=i + 1)
        services.adjust(session, drive, delta=delta, reason="walk", who="t", now=now)
        for target in (2, 4, 5):  # two milestones and the goal
            if drive.count >= target:
                first_reached.setdefault(target, now)
    got = crossings(session, drive)
    assert [(at, reached) for at, _, reached in got] == sorted(first_reached.items())
    assert all(kind == ("goal" if at == 5 else "milestone") for at, kind, _ in got)
    session.rollback()


def test_progress_json_lists_milestones_and_celebrates_for_the_configured_days(client, session, clock, drive):
    milestones.add_milestone(session, drive, at=2, headlines={"en": "{milestone} readers joined!"}, show_days=2,
                             who="t", now=clock.now())
    milestones.add_milestone(session, drive, at=4, headlines={}, show_days=2, who="t", now=clock.now())
    services.set_copy(session, drive, locale="uk", stage="launch", headline="{count} з {goal}", body="-",
                      cta_label="-", now=clock.now())
    join(session, clock)
    session.commit()
    body = client.get(PROGRESS).get_json()
    assert body["milestones"] == {"reached": [], "next": {"at": 2, "remaining": 1}, "celebrating": None}
    assert body["banner"]["headline"] == "1 out of 5"

    join(session, clock)
    session.commit()
    body = client.get(PROGRESS).get_json()
    assert body["milestones"]["reached"] == [{"at": 2, "reached_at": "2025-06-01T12:00:00+00:00"}]
    assert body["milestones"]["next"] == {"at": 4, "remaining": 2}
    assert body["milestones"]["celebrating"] == {"at": 2, "until": "2025-06-03T12:00:00+00:00"}
    assert body["banner"]["headline"] == "2 readers joined!"
    # a banner in Ukrainian gets the built-in Ukrainian headline (the milestone has none of its own in uk)
    assert client.get(PROGRESS + "?locale=uk").get_json()["banner"]["headline"] == "Нас уже понад 2. Дякуємо!"
    assert client.get(PROGRESS + "?locale=de").get_json()["banner"]["headline"] == "2 readers joined!"

    clock.advance(days=2)  # its days are over: the stage's headline again
    body = client.get(PROGRESS).get_json()
    assert body["milestones"]["celebrating"] is None and body["banner"]["headline"] == "2 out of 5"


def test_stretch_goal_keeps_goal_as_the_target_and_goes_into_overtime(client, session, clock, drive):
    with pytest.raises(services.Conflict):  # not before the goal is reached
        milestones.set_stretch_goal(session, drive, goal=10, now=clock.now())
    services.adjust(session, drive, delta=5, reason="event", who="t", now=clock.now())
    session.commit()
    assert client.get(PROGRESS).get_json()["stage"] == "goal_reached"
    with pytest.raises(services.Invalid):
        milestones.set_stretch_goal(session, drive, goal=5, now=clock.now())
    milestones.set_stretch_goal(session, drive, goal=8, now=clock.now())
    session.commit()

    body = client.get(PROGRESS).get_json()
    assert (body["goal"], body["original_goal"], body["remaining"], body["status"], body["stage"]) == (
        8, 5, 3, "active", "overtime")
    assert body["banner"]["headline"] == "5 out of 8"
    assert body["banner"]["body"] == ("We reached our goal of 5 members. Now for 8: 3 members to go, "
                                      "30 days left.")
    uk = client.get(PROGRESS + "?locale=uk").get_json()["banner"]["body"]
    assert "5" in uk and "8" in uk and "3 учасники" in uk

    services.adjust(session, drive, delta=3, reason="more", who="t", now=clock.now())
    session.commit()
    assert client.get(PROGRESS).get_json()["stage"] == "goal_reached"
    assert [(at, kind) for at, kind, _ in crossings(session, drive)] == [(5, "goal"), (8, "goal")]


def test_hours_left_and_time_left_count_down_in_the_campaigns_time_zone(client, session, clock):
    clock.set(datetime(2025, 3, 29, 12, 0, tzinfo=UTC))
    c = factories.campaign(session, clock.now(), slug="drive", goal=10, starts=date(2025, 3, 1),
                           ends=date(2025, 3, 30), timezone="Europe/Kyiv")
    services.set_copy(session, c, locale="en", stage="launch", headline="{time_left} left",
                      body="{hours_left, plural, one {# hour} other {# hours}}", cta_label="Join", now=clock.now())
    services.set_copy(session, c, locale="uk", stage="launch", headline="Залишилося {time_left}", body="-",
                      cta_label="-", now=clock.now())
    session.commit()
    # The window ends at midnight after 30 March in Kyiv: 21:00 UTC on 30 March (summer time since the 30th's
    # 03:00 local), so at 12:00 UTC on the 29th 33 hours are left, though two calendar days.
    body = client.get(PROGRESS).get_json()
    assert (body["days_left"], body["hours_left"]) == (2, 33)
    assert body["banner"]["headline"] == "33 hours left" and body["banner"]["body"] == "33 hours"
    assert client.get(PROGRESS + "?locale=uk").get_json()["banner"]["headline"] == "Залишилося 33 години"
    clock.set(datetime(2025, 3, 30, 20, 30, tzinfo=UTC))
    assert client.get(PROGRESS).get_json()["banner"]["headline"] == "1 hour left"
    clock.set(datetime(2025, 3, 20, 12, 0, tzinfo=UTC))
    assert client.get(PROGRESS).get_json()["banner"]["headline"] == "11 days left"
    clock.set(datetime(2025, 4, 2, 12, 0, tzinfo=UTC))
    assert client.get(PROGRESS).get_json()["hours_left"] == 0


def test_time_left_renders_in_every_plural_form():
    p = pace.compute(count=1, goal=10, starts_at=datetime(2025, 1, 1, tzinfo=UTC),
                     ends_at=datetime(2025, 1, 10, tzinfo=UTC), timezone="UTC",
                     now=datetime(2025, 1, 9, 19, tzinfo=UTC))
    assert p.hours_left == 5
    assert wording.render("{time_left}", wording.Values.from_pace(p), "uk") == "5 годин"
    assert wording.render("{time_left}", wording.Values.from_pace(p), "ar").endswith("ساعات")


def _token(session, clock):
    admin = make_staff(session, clock, "admin")
    _, secret = api_tokens.create_token(session, name="drive-bot", staff=admin, now=clock.now())
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_staff_api_manages_milestones_and_the_stretch_goal(client, session, clock, drive):
    auth = _token(session, clock)
    url = "/v1/staff/campaigns/drive/milestones"
    assert client.post(url, json={"at": 3}).status_code == 401
    r = client.post(url, json={"at": 3, "headlines": {"en": "{milestone}!", "uk": "{milestone}!"}}, headers=auth)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert (made["at"], made["show_days"], made["reached_at"]) == (3, 3, None)  # MILESTONE_SHOW_DAYS
    assert client.post(url, json={"at": 3}, headers=auth).status_code == 409
    bad = client.post(url, json={"at": 4, "headlines": {"en": "{nope}"}}, headers=auth)
    assert bad.status_code == 422 and "nope" in bad.get_json()["detail"]
    assert client.post(url, json={"at": "x"}, headers=auth).status_code == 422
    assert client.put("/v1/staff/campaigns/drive/stretch-goal", json={"goal": 9}, headers=auth).status_code == 409

    services.adjust(session, drive, delta=6, reason="event", who="t", now=clock.now())
    session.commit()
    r = client.put("/v1/staff/campaigns/drive/stretch-goal", json={"goal": 9}, headers=auth)
    assert r.status_code == 200 and (r.get_json()["goal"], r.get_json()["original_goal"]) == (9, 5)
    listed = client.get(url, headers=auth).get_json()
    assert [(x["at"], x["kind"]) for x in listed["crossings"]] == [(3, "milestone"), (5, "goal")]
    assert listed["milestones"][0]["reached_at"] == "2025-06-01T12:00:00+00:00"
    assert client.delete(f"{url}/{made['id']}", headers=auth).status_code == 204
    assert client.delete(f"{url}/{made['id']}", headers=auth).status_code == 404
    assert client.get(url, headers=auth).get_json()["milestones"] == []


def test_dashboard_form_adds_a_milestone_and_the_chart_marks_crossings(client, session, clock, drive):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/drive")
    r = client.post("/staff/campaigns/drive/milestones", data={"at": "2", "locale": "en", "headline": "Two!",
                                                                "show_days": "", "csrf_token": token})
    assert r.status_code == 302
    services.adjust(session, drive, delta=5, reason="event", who="t", now=clock.now())
    session.commit()
    page = client.get("/staff/campaigns/drive").get_data(as_text=True)
    assert 'id="milestones"' in page and "en: Two!" in page and "2025-06-01 12:00" in page
    assert 'class="event"' in page and "Milestone 2 on 2025-06-01" in page and "Goal 5 on 2025-06-01" in page
    assert 'action="/staff/campaigns/drive/stretch-goal"' in page  # offered once the goal is reached
    r = client.post("/staff/campaigns/drive/stretch-goal", data={"goal": "7", "csrf_token": token})
    assert r.status_code == 302 and session.get(type(drive), drive.id).goal == 7


def test_a_viewer_cannot_change_milestones(client, session, clock, drive):
    signed_in(client, session, clock, "viewer")
    token = csrf(client, "/staff/campaigns/drive")
    r = client.post("/staff/campaigns/drive/milestones", data={"at": "2", "csrf_token": token})
    assert r.status_code == 403 and milestones.list_milestones(session, drive) == []


def test_cli_adds_lists_and_removes_milestones(runner, session, clock, drive):
    r = runner.invoke(args=["campaign", "milestone", "add", "--slug", "drive", "--at", "3",
                            "--headline", "en={milestone} members!", "--show-days", "5", "--by", "ops"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["campaign", "milestone", "add", "--slug", "drive", "--at", "4", "--headline", "nolocale"])
    assert r.exit_code != 0 and "LOCALE=HEADLINE" in r.output
    listed = runner.invoke(args=["campaign", "milestone", "list", "--slug", "drive"]).output
    assert "3" in listed and "5 days" in listed and "en: {milestone} members!" in listed
    r = runner.invoke(args=["campaign", "stretch-goal", "--slug", "drive", "--goal", "9"])
    assert r.exit_code == 1 and "once the goal is reached" in r.output
    (row,) = milestones.list_milestones(session, drive)
    removed = runner.invoke(args=["campaign", "milestone", "remove", "--slug", "drive", "--id", str(row.id)])
    assert removed.exit_code == 0
    assert milestones.list_milestones(session, drive) == []
