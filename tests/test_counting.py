"""The counting rule: window edges, one count per person, net and gross modes, adjustments, never < 0;
and the maintained counter always equals a full recount, whatever the order of changes."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.campaigns import count_storage, services
from service.campaigns.counting import MemberFacts, Window, counts
from service.campaigns.models import CampaignDaily
from service.members.models import Member
from tests import factories

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)


def window(mode="net"):
    return Window(START, END, "UTC", mode)


@pytest.mark.parametrize("paid_at, expected", [
    (START, True),                                   # first instant of the window counts
    (START - timedelta(microseconds=1), False),       # just before: no
    (END - timedelta(microseconds=1), True),          # last instant of the last day counts
    (END, False),                                    # the exclusive end: no
    (None, False),                                   # never paid: no
])
def test_window_edges(paid_at, expected):
    assert counts(MemberFacts(first_paid_at=paid_at), window()) is expected


@pytest.mark.parametrize("mode, ended, reversed_, expected", [
    ("net", False, False, True),
    ("net", True, False, False),     # membership ended: stops counting in net mode
    ("net", False, True, False),     # first payment refunded / dispute lost
    ("gross", True, False, True),    # gross keeps members whose membership ended
    ("gross", False, True, False),   # ...but not a refunded first payment
])
def test_modes(mode, ended, reversed_, expected):
    paid = START + timedelta(days=10)
    facts = MemberFacts(first_paid_at=paid, ended_at=paid + timedelta(days=40) if ended else None,
                        reversed_at=paid + timedelta(days=2) if reversed_ else None)
    assert counts(facts, window(mode)) is expected


def test_window_follows_the_campaign_time_zone(session, clock):
    c = factories.campaign(session, clock.now(), slug="kyiv", timezone="Europe/Kyiv",
                           starts=date(2025, 1, 1), ends=date(2025, 12, 31))
    # 23:30 UTC on 31 Dec 2024 is already 1 Jan 2025 in Kyiv (UTC+2): counts
    factories.member(session, clock.now(), first_paid_at=datetime(2024, 12, 31, 22, 30, tzinfo=UTC))
    # 22:30 UTC on 31 Dec 2025 is 1 Jan 2026 00:30 in Kyiv: outside
    factories.member(session, clock.now(), first_paid_at=datetime(2025, 12, 31, 22, 30, tzinfo=UTC))
    session.commit()
    assert c.count == 1
    day = session.query(CampaignDaily.day).filter_by(campaign_id=c.id).scalar()
    assert day == date(2025, 1, 1)


def test_counter_follows_member_changes_in_both_modes(session, clock):
    net = factories.campaign(session, clock.now(), slug="net", count_mode="net")
    gross = factories.campaign(session, clock.now(), slug="gross", count_mode="gross")
    m = factories.member(session, clock.now(), first_paid_at=datetime(2025, 3, 1, tzinfo=UTC))
    session.commit()
    assert (net.count, gross.count) == (1, 1)
    m.ended_at = datetime(2025, 5, 1, tzinfo=UTC)
    session.commit()
    assert (net.count, gross.count) == (0, 1)
    m.ended_at = None  # rejoined
    session.commit()
    assert (net.count, gross.count) == (1, 1)
    m.first_payment_reversed_at = datetime(2025, 3, 5, tzinfo=UTC)
    session.commit()
    assert (net.count, gross.count) == (0, 0)
    session.delete(m)
    session.commit()
    assert (net.count, gross.count) == (0, 0)


def test_one_count_per_person(session, clock):
    from sqlalchemy.exc import IntegrityError

    c = factories.campaign(session, clock.now())
    factories.member(session, clock.now(), email="reader@example.org", first_paid_at=START + timedelta(days=1))
    session.commit()
    with pytest.raises(IntegrityError):
        factories.member(session, clock.now(), email="reader@example.org", first_paid_at=START + timedelta(days=2))
    session.rollback()
    assert c.count == 1


def test_adjustments_add_and_never_go_below_zero(session, clock):
    c = factories.campaign(session, clock.now())
    factories.member(session, clock.now(), first_paid_at=START + timedelta(days=1))
    services.adjust(session, c, delta=40, reason="festival sign-ups", who="ed@news.example", now=clock.now())
    session.commit()
    assert c.count == 41
    services.adjust(session, c, delta=-100, reason="double-counted import", who="ed@news.example", now=clock.now())
    session.commit()
    assert c.count == 0
    assert c.members_counted + c.adjustments_total == -59


@pytest.mark.parametrize("delta, reason", [(0, "x"), (5, ""), (5, "   "), (10_000_001, "x"), (3, "r" * 501)])
def test_bad_adjustments_are_refused(session, clock, delta, reason):
    from service.errors import Invalid

    c = factories.campaign(session, clock.now())
    with pytest.raises(Invalid):
        services.adjust(session, c, delta=delta, reason=reason, who="t", now=clock.now())


def test_campaign_created_later_counts_existing_members(session, clock):
    factories.member(session, clock.now(), first_paid_at=START + timedelta(days=3))
    factories.member(session, clock.now(), first_paid_at=START + timedelta(days=4),
                     ended_at=START + timedelta(days=30))
    session.commit()
    net = factories.campaign(session, clock.now(), slug="late-net")
    gross = factories.campaign(session, clock.now(), slug="late-gross", count_mode="gross")
    session.commit()
    assert (net.count, gross.count) == (1, 2)


def test_daily_rollup_sums_to_the_count(session, clock):
    c = factories.campaign(session, clock.now())
    for i in range(5):
        factories.member(session, clock.now(), first_paid_at=START + timedelta(days=i),
                         ended_at=START + timedelta(days=20) if i % 2 else None, plan=["monthly", "yearly"][i % 2])
    session.commit()
    rows = session.query(CampaignDaily).filter_by(campaign_id=c.id).all()
    assert sum(r.joined - r.ended for r in rows) == c.members_counted == 3
    assert sum(r.joined for r in rows) == 5 and sum(r.ended for r in rows) == 2


# A member's state is a point in this space; a random walk through it must keep counter == recount.
paid_times = st.sampled_from([None, START - timedelta(days=1), START, START + timedelta(days=100),
                              END - timedelta(seconds=1), END])
end_times = st.sampled_from([None, START + timedelta(days=120), START + timedelta(days=500)])
reversal = st.sampled_from([None, START + timedelta(days=101)])
states = st.tuples(paid_times, end_times, reversal, st.sampled_from(["monthly", "yearly"]),
                   st.sampled_from(["en", "uk"]), st.sampled_from(["", "article:1"]))
steps = st.lists(st.tuples(st.integers(0, 3), states | st.just("delete")), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_counter_equals_full_recount_after_any_sequence_of_changes(app, session, clock, steps):
    from sqlalchemy import delete

    from service.campaigns.models import Campaign

    session.execute(delete(CampaignDaily))
    session.execute(delete(Member))
    session.execute(delete(Campaign))
    session.commit()
    net = factories.campaign(session, clock.now(), slug="n")
    gross = factories.campaign(session, clock.now(), slug="g", count_mode="gross", timezone="America/New_York")
    people: dict[int, Member] = {}
    for who, state in steps:
        m = people.get(who)
        if state == "delete":
            if m is not None:
                session.delete(m)
                people.pop(who)
        else:
            paid, ended, rev, plan, locale, source = state
            if m is None:
                m = factories.member(session, clock.now(), email=f"p{who}@example.org")
                people[who] = m
            m.first_paid_at, m.ended_at, m.first_payment_reversed_at = paid, ended, rev
            m.plan, m.locale, m.source = plan, locale, source
        session.commit()
    incremental = {c.slug: (c.members_counted, _rollup(session, c.id)) for c in (net, gross)}
    for c in (net, gross):
        count_storage.recount(session, c, clock.now())
    session.commit()
    recounted = {c.slug: (c.members_counted, _rollup(session, c.id)) for c in (net, gross)}
    assert incremental == recounted


def _rollup(session, campaign_id):
    rows = session.query(CampaignDaily).filter_by(campaign_id=campaign_id).all()
    return sorted((r.day, r.plan, r.locale, r.source, r.joined, r.ended) for r in rows if r.joined or r.ended)
