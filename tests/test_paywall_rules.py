"""Pure access rules: membership standing, the meter, visibility, prompts and redirect checks."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import urls
from service.members.standing import Standing, Sub, membership
from service.paywall import rules

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def standing(*subs, status="active", paid=None):
    return membership(subs, member_status=status, first_paid_at=paid, now=NOW, grace_days=7)


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_active_and_trialing_are_members(status):
    assert standing(Sub(status, NOW + 10 * DAY)).kind == "member"


def test_canceled_inside_paid_period_grants_nothing():
    """Stripe cancels at once (ended_at now) or at the period end; `canceled` means it has ended."""
    assert standing(Sub("canceled", NOW + 3 * DAY), status="ended", paid=NOW - 40 * DAY).kind == "lapsed"


def test_canceled_after_period_end_is_lapsed_when_they_paid_before():
    assert standing(Sub("canceled", NOW - DAY), paid=NOW - 40 * DAY).kind == "lapsed"
    assert standing(Sub("canceled", NOW), paid=NOW - 40 * DAY).kind == "lapsed"  # the end is exclusive


def test_canceled_never_paid_is_a_plain_reader():
    assert standing(Sub("canceled", NOW - DAY), status="canceled").kind == "none"


def test_past_due_within_grace_days_of_the_due_date():
    due = NOW - 6 * DAY
    assert standing(Sub("past_due", due), paid=NOW - 60 * DAY) == Standing("grace", due + 7 * DAY)


def test_past_due_after_grace_is_lapsed():
    assert standing(Sub("past_due", NOW - 7 * DAY), paid=NOW - 60 * DAY).kind == "lapsed"
    assert standing(Sub("past_due", NOW - 8 * DAY), paid=NOW - 60 * DAY).kind == "lapsed"


def test_unpaid_and_incomplete_do_not_grant():
    assert standing(Sub("unpaid", NOW + 5 * DAY), paid=NOW - 60 * DAY).kind == "lapsed"
    assert standing(Sub("incomplete", NOW + 5 * DAY)).kind == "none"


def test_best_subscription_wins():
    s = standing(Sub("canceled", NOW - 30 * DAY), Sub("active", NOW + 20 * DAY), paid=NOW - 90 * DAY)
    assert s.kind == "member"


def test_member_without_subscription_rows_counts_by_status():
    """Signed in from a completed checkout before the subscription webhook arrived."""
    assert standing(status="active").kind == "member"
    assert standing(status="pending").kind == "none"
    assert standing(status="canceled", paid=NOW - 40 * DAY).kind == "lapsed"


def test_cancel_at_period_end_still_member_until_the_end():
    assert standing(Sub("active", NOW + DAY, cancel_at_period_end=True)).kind == "member"


# --- meter ---------------------------------------------------------------------------------------

def meter(counted, article, limit=3, period=30):
    return rules.meter(counted, article, now=NOW, limit=limit, period_days=period)


def test_first_read_counts_and_resets_a_period_later():
    m = meter([], "a")
    assert (m.allowed, m.record, m.used, m.remaining) == (True, True, 1, 2)
    assert m.resets_at == NOW + 30 * DAY


def test_limit_then_exhausted():
    counted = [("a", NOW - 3 * DAY), ("b", NOW - 2 * DAY)]
    m = meter(counted, "c")
    assert (m.allowed, m.record, m.used, m.remaining) == (True, True, 3, 0)
    assert m.resets_at == NOW - 3 * DAY + 30 * DAY
    m = meter([*counted, ("c", NOW - DAY)], "d")
    assert (m.allowed, m.record, m.used, m.remaining) == (False, False, 3, 0)
    assert m.resets_at == NOW + 27 * DAY


def test_re_read_in_period_is_free_even_when_exhausted():
    counted = [("a", NOW - 3 * DAY), ("b", NOW - 2 * DAY), ("c", NOW - DAY)]
    m = meter(counted, "b")
    assert (m.allowed, m.record, m.used) == (True, False, 3)


def test_reads_older_than_the_period_do_not_count():
    counted = [("a", NOW - 30 * DAY), ("b", NOW - 29 * DAY), ("c", NOW - 31 * DAY)]
    m = meter(counted, "a")  # a's read expired exactly now: counts anew
    assert (m.allowed, m.record, m.used) == (True, True, 2)
    assert m.resets_at == NOW - 29 * DAY + 30 * DAY


def test_limit_zero_walls_everything():
    m = meter([], "a", limit=0)
    assert not m.allowed and m.resets_at is None


# --- decisions and visibility ---------------------------------------------------------------------

def test_visibility_rules():
    assert rules.visibility_of("public", "news", {"news": "members"}) == "public"
    assert rules.visibility_of(None, "opinion", {"opinion": "public"}) == "public"
    assert rules.visibility_of(None, "other", {"opinion": "public"}) == "members"
    assert rules.visibility_of(None, None, {}) == "members"


@pytest.mark.parametrize("vis,kind,allowed,expected", [
    ("public", "none", None, ("granted", "public")),
    ("public", "lapsed", None, ("granted", "public")),
    ("members", "member", None, ("granted", "member")),
    ("members", "grace", None, ("granted", "grace")),
    ("members", "lapsed", None, ("denied", "membership_lapsed")),
    ("members", "none", True, ("granted", "metered")),
    ("members", "none", False, ("denied", "meter_exhausted")),
])
def test_every_reason(vis, kind, allowed, expected):
    m = None if allowed is None else rules.Meter(allowed, allowed, 3, 3 if not allowed else 1, None)
    d = rules.decide(vis, Standing(kind), m)
    assert (d.access, d.reason) == expected


def test_prompt_shows_at_the_wall_and_when_the_meter_runs_low():
    assert rules.show_prompt("denied", "meter_exhausted", 0)
    assert rules.show_prompt("denied", "membership_lapsed", None)
    assert rules.show_prompt("granted", "metered", 1)
    assert rules.show_prompt("granted", "metered", 0)
    assert not rules.show_prompt("granted", "metered", 2)
    assert not rules.show_prompt("granted", "member", None)
    assert not rules.show_prompt("granted", "public", None)


# --- redirects -------------------------------------------------------------------------------------

ALLOWED = {"https://news.example", "http://127.0.0.1:5000"}


@pytest.mark.parametrize("url", [
    "https://news.example/", "https://news.example/2025/06/story?x=1#top", "https://NEWS.example:443/a",
    "http://127.0.0.1:5000/account",
])
def test_allowed_redirects(url):
    assert urls.allowed_origin(url, ALLOWED)


@pytest.mark.parametrize("url", [
    "https://evil.com/", "//evil.com/", "///evil.com", "/relative/path", "javascript:alert(1)",
    "JavaScript://news.example/%0aalert(1)", "data:text/html,hi", "https://news.example@evil.com/",
    "https://user:pass@news.example/", "https://news.example:8443/", "http://news.example/",
    "https://news.example.evil.com/", "https://evil.com/?https://news.example", "https://news.example\\@evil.com",
    "https:\\\\evil.com", "https://news.example\t.evil.com", " https://evil.com", "https://news.example:99999/",
    "", "x" * 3000, "ftp://news.example/", "http://127.0.0.1:5001/",
])
def test_refused_redirects(url):
    assert not urls.allowed_origin(url, ALLOWED)


def test_grace_counts_from_the_failed_payment_when_known():
    """Stripe moves current_period_end forward at renewal, so the failure time is the better start."""
    sub = Sub("past_due", NOW + 25 * DAY, payment_failed_at=NOW - 5 * DAY)
    assert standing(sub, paid=NOW - 60 * DAY) == Standing("grace", NOW + 2 * DAY)
    late = Sub("past_due", NOW + 25 * DAY, payment_failed_at=NOW - 8 * DAY)
    assert standing(late, paid=NOW - 60 * DAY).kind == "lapsed"


# --- property: the meter's invariants over random reading histories --------------------------------



@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=4), st.integers(min_value=1, max_value=10),
       st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5 * 24)), max_size=40))
def test_meter_invariants(limit, period_days, steps):
    """Stored like meter_reads (one row per article, read_at moved forward on a counted re-read):
    never more than `limit` articles live in any window; a live article is always free; a denial's
    resets_at is when the next new article is allowed."""
    store: dict[str, datetime] = {}
    now = NOW
    for article_n, hours in steps:
        now += timedelta(hours=hours)
        article = f"a{article_n}"
        m = rules.meter(list(store.items()), article, now=now, limit=limit, period_days=period_days)
        start = now - timedelta(days=period_days)
        live = {a for a, t in store.items() if t > start}
        if article in live:
            assert m.allowed and not m.record
        elif len(live) < limit:
            assert m.allowed and m.record
        else:
            assert not m.allowed
            if m.resets_at is not None:
                later = rules.meter(list(store.items()), article, now=m.resets_at, limit=limit,
                                    period_days=period_days)
                assert later.allowed
                assert not rules.meter(list(store.items()), article, now=m.resets_at - timedelta(seconds=1),
                                       limit=limit, period_days=period_days).allowed
        if m.record:
            store[article] = now
        assert len({a for a, t in store.items() if t > start}) <= limit
        assert m.used == len({a for a, t in store.items() if t > start})
        assert m.remaining == max(0, limit - m.used)
