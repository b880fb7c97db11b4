"""The demo sign-up seeder and the dashboard's independence from the number of members."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from service.campaigns import count_storage, demo, seed
from service.campaigns.models import Campaign, CampaignDaily
from service.extensions import db
from service.members.models import Member
from tests.staff_support import (
    fast_hashing,  # noqa: F401 - autouse fixture
    signed_in,
)
from tests.support import Statements


@pytest.fixture
def demo_campaign(app, session, clock):
    c = demo.create_demo(session, clock.now())
    session.commit()
    return c


def test_seeded_members_are_realistic_and_counted(session, clock, demo_campaign):
    count = seed.seed_signups(session, demo_campaign, 3000, clock.now())
    session.commit()
    members = session.scalars(select(Member)).all()
    assert len(members) == 3000
    assert all(re.fullmatch(r"seed-\d+@example\.invalid", m.email) for m in members)
    assert all(demo_campaign.starts_at <= m.first_paid_at <= clock.now() for m in members)
    ended = [m for m in members if m.ended_at is not None]
    assert 0.04 < len(ended) / len(members) < 0.10  # about 8%, the later ones still running
    assert all(m.first_paid_at < m.ended_at <= clock.now() and m.status == "canceled" for m in ended)
    assert {m.plan for m in members} == {"monthly", "yearly"}
    assert {m.locale for m in members} == {"en", "uk"}
    sources = Counter(m.source for m in members)
    assert all(s == "seeded" or s.startswith("seeded:") for s in sources)  # marked: never taken for real readers
    assert sources["seeded:newsletter"] > 0 and any(s.startswith("seeded:article:") for s in sources)
    assert any(s.startswith("seeded:referrer:") for s in sources)
    # counters rebuilt: the count is the members who did not end, as the counting rule says
    assert count == demo_campaign.count == 3000 - len(ended)
    daily = session.execute(select(func.sum(CampaignDaily.joined), func.sum(CampaignDaily.ended))).one()
    assert tuple(daily) == (3000, len(ended))
    # the shape: the launch week is busier than an ordinary week in April
    days = Counter(m.first_paid_at.date() for m in members)
    launch = sum(n for d, n in days.items() if d.month == 1 and d.day <= 7)
    april = sum(n for d, n in days.items() if d.month == 4 and 7 <= d.day <= 13)
    assert launch > 2 * april
    assert count_storage.recount(session, demo_campaign, clock.now()) == count


def test_a_second_run_adds_more_with_new_emails(session, clock, demo_campaign):
    seed.seed_signups(session, demo_campaign, 100, clock.now())
    seed.seed_signups(session, demo_campaign, 50, clock.now())
    session.commit()
    assert session.scalar(select(func.count(Member.id))) == 150
    assert session.scalar(select(func.count(func.distinct(Member.email)))) == 150


def test_a_campaign_that_has_not_started_cannot_be_seeded(session, clock):
    from service.errors import Invalid
    from tests import factories

    c = factories.campaign(session, clock.now(), slug="later", starts=date(2025, 9, 1),
                           ends=date(2025, 12, 31))
    with pytest.raises(Invalid, match="has not started"):
        seed.seed_signups(session, c, 10, clock.now())


def test_demo_command_seeds_sign_ups(runner, session, clock):
    r = runner.invoke(args=["demo", "--signups", "1200"])
    assert r.exit_code == 0, r.output
    assert "Created demo campaign members-25k" in r.output
    assert re.search(r"Seeded 1,200 sign-ups into members-25k in [\d.]+s: count is now [\d,]+\.", r.output)
    assert "Seeding 1,200 sign-ups" in r.output  # progress
    c = session.scalar(select(Campaign))
    assert session.scalar(select(func.count(Member.id))) == 1200
    assert 1000 < c.count <= 1200
    again = runner.invoke(args=["demo", "--signups", "1200"])  # `make run` asks every time: once is enough
    assert again.exit_code == 0 and "1,200 seeded sign-ups exist already" in again.output
    assert session.scalar(select(func.count(Member.id))) == 1200
    more = runner.invoke(args=["demo", "--signups", "300", "--more"])
    assert more.exit_code == 0 and "Seeded 300 sign-ups" in more.output
    assert session.scalar(select(func.count(Member.id))) == 1500


def test_dashboard_reads_roll_ups_never_members(client, session, clock, demo_campaign):
    """The page's cost must not grow with members: no statement it runs may touch the members table."""
    seed.seed_signups(session, demo_campaign, 500, clock.now())
    session.commit()
    signed_in(client, session, clock, "admin")
    with Statements(db.engine) as s:
        for path in ("/staff/campaigns/members-25k", "/v1/staff/campaigns/members-25k/stats",
                     "/staff/campaigns/members-25k/signups.csv", "/staff/"):
            assert client.get(path).status_code == 200
    assert s.sql
    touching = [q for q in s.sql if re.search(r"\bmembers\b", q)]
    assert not touching, touching
    assert len(s.sql) < 60  # a fixed number of queries, whatever the data


def test_seed_rows_are_reproducible():
    c = Campaign(slug="x", starts_at=datetime(2025, 1, 1, tzinfo=UTC), ends_at=datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime(2025, 6, 1, tzinfo=UTC)
    a = next(seed.rows(c, 50, now))
    b = next(seed.rows(c, 50, now))
    assert a == b and len(a) == 50
