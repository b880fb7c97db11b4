"""GET /v1/campaigns/{slug}/progress: the data behind the banner on every page."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests import factories
from tests.support import Statements


def test_demo_banner_reproduces_the_seed_sentence_word_for_word(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/progress?locale=en")
    assert r.status_code == 200
    b = r.get_json()["banner"]
    sentence = f"{b['headline']} — {b['body']} {b['cta_label']}"
    assert sentence == ("0 out of 25,000 — Quality journalism takes work — and a community that cares. "
                        "Help us reach 25,000 members by the end of 2025.")
    assert b["headline"] == "0 out of 25,000"
    assert b["body"] == "Quality journalism takes work — and a community that cares."
    assert b["cta_url"] == "https://news.example/join"
    assert b["locale"] == "en" and b["dir"] == "ltr"


def test_progress_fields(client, demo_campaign):
    body = client.get("/v1/campaigns/members-25k/progress").get_json()
    assert body["campaign"] == "members-25k"
    assert body["goal"] == 25_000 and body["count"] == 0 and body["remaining"] == 25_000
    assert body["percent"] == 0.0 and body["status"] == "active" and body["stage"] == "launch"
    assert body["starts_at"].startswith("2025-01-01T00:00:00")
    assert body["ends_at"].startswith("2026-01-01T00:00:00")
    assert body["deadline"] == "2025-12-31"
    # 1 March to 31 December inclusive
    assert body["days_left"] == (date(2025, 12, 31) - date(2025, 3, 1)).days + 1
    assert body["pace"]["daily_needed"] == round(25_000 / body["days_left"], 1)
    assert body["pace"]["daily_average_7d"] == 0.0
    assert body["pace"]["projected_reach_date"] is None
    assert "updated_at" in body


def test_ukrainian_copy_uses_the_locales_number_format(client, demo_campaign):
    b = client.get("/v1/campaigns/members-25k/progress?locale=uk").get_json()["banner"]
    assert b["headline"] == "0 з 25\u00a0000"
    assert "25\u00a0000 учасників" in b["cta_label"]
    assert b["locale"] == "uk"


@pytest.mark.parametrize("locale", ["de", "zz", "not a locale", "x" * 300, "uk-UA", "UK", ""])
def test_unknown_or_odd_locales_fall_back_never_fail(client, demo_campaign, locale):
    r = client.get("/v1/campaigns/members-25k/progress", query_string={"locale": locale})
    assert r.status_code == 200
    assert r.get_json()["banner"]["locale"] in ("en", "uk")


def test_regional_locale_uses_its_language(client, demo_campaign):
    assert client.get("/v1/campaigns/members-25k/progress?locale=uk-UA").get_json()["banner"]["locale"] == "uk"


def test_unknown_campaign_is_a_404_problem(client, demo_campaign):
    r = client.get("/v1/campaigns/nope/progress")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    p = r.get_json()
    assert p["status"] == 404 and p["title"] and p["type"]


def test_etag_and_304(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/progress?locale=en")
    etag = r.headers["ETag"]
    assert etag
    cc = r.headers["Cache-Control"]
    assert "public" in cc and "max-age=" in cc and "stale-while-revalidate=" in cc
    again = client.get("/v1/campaigns/members-25k/progress?locale=en", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/v1/campaigns/members-25k/progress?locale=uk", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_count_change_shows_after_the_cache_ttl(app, client, session, clock, demo_campaign):
    app.extensions["progress_cache"].ttl = 3600  # the cache's time moves with the clock
    first = client.get("/v1/campaigns/members-25k/progress").get_json()
    clock.advance(minutes=1)
    factories.member(session, clock.now(), first_paid_at=clock.now() - timedelta(hours=1))
    session.commit()
    cached = client.get("/v1/campaigns/members-25k/progress").get_json()
    assert cached["count"] == first["count"] == 0  # served from cache inside the TTL
    app.extensions["progress_cache"].clear()  # as when the TTL (2 s by default) runs out
    fresh = client.get("/v1/campaigns/members-25k/progress").get_json()
    assert fresh["count"] == 1
    assert fresh["updated_at"] > first["updated_at"]


def test_reading_progress_runs_no_count_over_members(app, client, demo_campaign):
    from service.extensions import db

    with Statements(db.engine) as s:
        assert client.get("/v1/campaigns/members-25k/progress").status_code == 200
    assert s.sql, "expected the cache miss to read the campaign"
    assert not [q for q in s.sql if "from members" in q.lower()], s.sql
    assert len(s.sql) <= 5  # campaign, 7-day net, copy, variants, milestones with their crossings


def test_stages_follow_the_count(app, client, session, clock, demo_campaign):
    from service.campaigns import services

    def stage() -> tuple[str, str, str]:
        b = client.get("/v1/campaigns/members-25k/progress?locale=en").get_json()
        return b["status"], b["stage"], b["banner"]["headline"]

    assert stage()[:2] == ("active", "launch")
    services.adjust(session, demo_campaign, delta=12_500, reason="50%", who="t", now=clock.now())
    session.commit()
    assert stage()[:2] == ("active", "momentum")
    services.adjust(session, demo_campaign, delta=10_000, reason="90%", who="t", now=clock.now())
    session.commit()
    s = stage()
    assert s[:2] == ("active", "final_push")
    services.adjust(session, demo_campaign, delta=2_500, reason="100%", who="t", now=clock.now())
    session.commit()
    assert stage() == ("goal_reached", "goal_reached", "25,000 members: we did it!")
    clock.set(datetime(2026, 1, 1, 0, 0, tzinfo=UTC))
    assert stage()[:2] == ("ended", "ended")
    clock.set(datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    assert stage()[:2] == ("scheduled", "scheduled")


def test_percent_is_capped_and_over_achievement_shown(client, session, clock, demo_campaign):
    from service.campaigns import services

    services.adjust(session, demo_campaign, delta=30_000, reason="x", who="t", now=clock.now())
    session.commit()
    body = client.get("/v1/campaigns/members-25k/progress").get_json()
    assert body["percent"] == 100.0 and body["percent_of_goal"] == 120.0 and body["remaining"] == 0


def test_method_not_allowed_and_unknown_route_are_problems(client, demo_campaign):
    r = client.post("/v1/campaigns/members-25k/progress")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    r = client.get("/no/such/path")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_factory_campaign_in_another_timezone(client, session, clock):
    factories.campaign(session, clock.now(), slug="kyiv", timezone="Europe/Kyiv",
                       starts=date(2025, 1, 1), ends=date(2025, 12, 31))
    session.commit()
    body = client.get("/v1/campaigns/kyiv/progress").get_json()
    assert body["starts_at"].startswith("2024-12-31T22:00:00")  # Kyiv midnight is 22:00 UTC in winter
