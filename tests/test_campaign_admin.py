"""Staff run a drive without SQL: campaigns edited, archived and deleted from the CLI, the staff API and the
dashboard (recounted when the window or counting mode changes, each change audited, field-by-field messages);
an archived campaign is gone from its public endpoints; the paywall's campaign is chosen, not guessed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from service.campaigns.models import Campaign
from service.staff import api_tokens
from service.staff.models import AuditEntry
from tests import factories
from tests.staff_support import (  # noqa: F401 - fast_hashing is autouse
    csrf,
    fast_hashing,  # noqa: F401
    make_staff,
    signed_in,
)


def at(y, m, d, h=12):
    return datetime(y, m, d, h, 0, tzinfo=UTC)


@pytest.fixture
def spring(session, clock):
    """Window 1 May - 30 June 2025 (UTC), goal 100: 3 members paid 2 May, 2 paid 20 June, one paid 2 July."""
    c = factories.campaign(session, clock.now(), slug="spring", goal=100, starts=date(2025, 5, 1),
                           ends=date(2025, 6, 30), title="Spring drive")
    for when in (at(2025, 5, 2), at(2025, 5, 2), at(2025, 5, 2), at(2025, 6, 20), at(2025, 6, 20), at(2025, 7, 2)):
        factories.member(session, clock.now(), first_paid_at=when)
    session.commit()
    assert c.count == 5
    return c


@pytest.fixture
def token(session, clock):
    admin = make_staff(session, clock, "admin", "boss@newsroom.example")
    _, secret = api_tokens.create_token(session, name="drive-bot", staff=admin, now=clock.now())
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def actions(session):
    return [(e.action, e.target) for e in session.query(AuditEntry).order_by(AuditEntry.id)
            if not e.action.startswith(("signin.", "signout", "token."))]


# ---- CLI ---------------------------------------------------------------------------------------------

def test_cli_edit_window_recounts_and_says_how_far_the_count_moved(runner, session, spring):
    r = runner.invoke(args=["campaign", "edit", "--slug", "spring", "--ends", "2025-07-31", "--goal", "150",
                            "--title", "Summer drive", "--by", "ops"])
    assert r.exit_code == 0, r.output
    assert "moved by +1 (5 → 6)" in r.output and "goal 100 → 150" in r.output
    session.expire_all()
    c = session.query(Campaign).filter_by(slug="spring").one()
    assert (c.count, c.goal, c.title) == (6, 150, "Summer drive")
    assert c.ends_at == at(2025, 8, 1, 0)
    entry = session.query(AuditEntry).filter_by(action="campaign.edit").one()
    assert entry.actor == "ops" and entry.details["count"] == [5, 6] and entry.details["via"] == "cli"
    assert entry.details["ends"] == ["2025-06-30", "2025-07-31"]


def test_cli_edit_time_zone_keeps_local_days_and_recounts(runner, session, spring):
    r = runner.invoke(args=["campaign", "edit", "--slug", "spring", "--timezone", "Europe/Kyiv"])
    assert r.exit_code == 0, r.output
    session.expire_all()
    c = session.query(Campaign).filter_by(slug="spring").one()
    assert c.starts_at == datetime(2025, 4, 30, 21, 0, tzinfo=UTC)  # local midnight of 1 May in Kyiv (UTC+3)
    assert "Recounted" in r.output
    r = runner.invoke(args=["campaign", "list"])
    assert "2025-05-01 .. 2025-06-30 (Europe/Kyiv)" in r.output


def test_cli_edit_names_every_bad_field_in_a_sentence(runner, session, spring):
    r = runner.invoke(args=["campaign", "edit", "--slug", "spring", "--goal", "0", "--timezone", "Mars/Olympus",
                            "--starts", "2025-07-01", "--join-url", "javascript:alert(1)"])
    assert r.exit_code == 1
    assert "Goal must be a whole number from 1 to 1,000,000,000." in r.output
    assert "Unknown time zone 'Mars/Olympus'" in r.output
    assert "The last day must be on or after the first day." in r.output
    assert "Traceback" not in r.output
    session.expire_all()
    assert session.query(Campaign).filter_by(slug="spring").one().goal == 100
    assert actions(session) == []


def test_cli_archive_makes_public_endpoints_gone_and_unarchive_brings_them_back(runner, client, spring):
    assert client.get("/v1/campaigns/spring/progress").status_code == 200
    r = runner.invoke(args=["campaign", "archive", "--slug", "spring"])
    assert r.exit_code == 0 and "Archived spring" in r.output
    for path in ("/v1/campaigns/spring/progress", "/v1/campaigns/spring/progress?locale=uk",
                 "/v1/campaigns/spring/banner.html", "/embed/campaigns/spring"):
        answer = client.get(path)
        assert answer.status_code == 410, path
    progress = client.get("/v1/campaigns/spring/progress")
    assert progress.mimetype == "application/problem+json" and progress.json["type"].endswith("/gone")
    beacon = client.post("/v1/campaigns/spring/events", json={"type": "impression", "locale": "en"})
    assert beacon.status_code == 410
    # An archived campaign takes no new sign-ups: checkout refuses it before any call to Stripe.
    checkout = client.post("/v1/checkout/sessions", json={
        "campaign": "spring", "plan": "monthly", "success_url": "https://news.example/welcome",
        "cancel_url": "https://news.example/"})
    assert checkout.status_code == 410 and checkout.mimetype == "application/problem+json"
    assert runner.invoke(args=["campaign", "list"]).output.count("archived") == 1
    r = runner.invoke(args=["campaign", "unarchive", "--slug", "spring"])
    assert r.exit_code == 0
    assert client.get("/v1/campaigns/spring/progress").status_code == 200


def test_cli_delete_is_refused_while_members_are_counted_unless_forced(runner, session, spring):
    r = runner.invoke(args=["campaign", "delete", "--slug", "spring"])
    assert r.exit_code == 1 and "5 members are counted" in r.output and "--force" in r.output
    assert session.query(Campaign).filter_by(slug="spring").count() == 1
    runner.invoke(args=["campaign", "edit", "--slug", "spring", "--goal", "120"])
    r = runner.invoke(args=["campaign", "delete", "--slug", "spring", "--force", "--by", "ops"])
    assert r.exit_code == 0, r.output
    session.expire_all()
    assert session.query(Campaign).filter_by(slug="spring").count() == 0
    # The log outlives the campaign: its edit and its deletion are both there.
    assert actions(session) == [("campaign.edit", "spring"), ("campaign.delete", "spring")]
    deleted = session.query(AuditEntry).filter_by(action="campaign.delete").one()
    assert deleted.details["forced"] is True and deleted.details["members_counted"] == 5


def test_cli_delete_of_an_empty_campaign_needs_no_force(runner, session, clock):
    factories.campaign(session, clock.now(), slug="test-drive", starts=date(2026, 1, 1), ends=date(2026, 1, 31))
    session.commit()
    r = runner.invoke(args=["campaign", "delete", "--slug", "test-drive"])
    assert r.exit_code == 0 and "Deleted test-drive" in r.output


# ---- staff API ---------------------------------------------------------------------------------------

def test_api_create_then_patch_mode_recounts(client, session, token, clock):
    factories.member(session, clock.now(), first_paid_at=at(2025, 5, 3), ended_at=at(2025, 5, 10))
    session.commit()
    r = client.post("/v1/staff/campaigns", headers=token, json={
        "slug": "may", "title": "May drive", "goal": 50, "starts": "2025-05-01", "ends": "2025-05-31"})
    assert r.status_code == 201, r.json
    assert r.json["count"] == 0 and r.json["starts"] == "2025-05-01" and r.json["archived"] is False
    r = client.patch("/v1/staff/campaigns/may", headers=token, json={"count_mode": "gross"})
    assert r.status_code == 200, r.json
    assert (r.json["recounted"], r.json["count_moved"], r.json["campaign"]["count"]) == (True, 1, 1)
    assert "moved by +1" in r.json["message"]
    r = client.patch("/v1/staff/campaigns/may", headers=token, json={"title": "May"})
    assert r.json["recounted"] is False and r.json["changed"] == {"title": ["May drive", "May"]}
    entries = session.query(AuditEntry).filter(AuditEntry.action.like("campaign.%")).all()
    assert [e.action for e in entries] == ["campaign.create", "campaign.edit", "campaign.edit"]
    assert all(e.actor.startswith("token ") or "drive-bot" in e.actor for e in entries)


def test_api_validation_is_field_by_field(client, token, spring):
    r = client.patch("/v1/staff/campaigns/spring", headers=token,
                     json={"goal": -3, "default_locale": "klingon!", "count_mode": "both", "title": " "})
    assert r.status_code == 422
    errors = r.json["errors"]
    assert set(errors) == {"goal", "default_locale", "count_mode", "title"}
    assert all(m[0][0].isupper() and m[0].endswith(".") for m in errors.values())
    r = client.post("/v1/staff/campaigns", headers=token, json={"slug": "spring", "title": "Again"})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"slug", "goal", "starts", "ends"}
    assert "exists already" in r.json["errors"]["slug"][0]


def test_api_archive_and_delete(client, session, token, spring):
    r = client.patch("/v1/staff/campaigns/spring", headers=token, json={"archived": True})
    assert r.status_code == 200 and r.json["campaign"]["archived"] is True
    assert client.get("/v1/campaigns/spring/progress").status_code == 410
    r = client.delete("/v1/staff/campaigns/spring", headers=token)
    assert r.status_code == 409 and "members are counted" in r.json["detail"]
    r = client.delete("/v1/staff/campaigns/spring?force=true", headers=token)
    assert r.status_code == 200 and r.json == {"slug": "spring", "count": 5, "forced": True}
    assert client.get("/v1/campaigns/spring/progress").status_code == 404


def test_api_needs_a_token_not_a_session(client, session, clock, spring):
    assert client.patch("/v1/staff/campaigns/spring", json={"goal": 5}).status_code == 401
    signed_in(client, session, clock, "admin")  # a session cookie alone is not enough for changes
    r = client.patch("/v1/staff/campaigns/spring", json={"goal": 5})
    assert r.status_code == 401
    session.expire_all()
    assert session.query(Campaign).filter_by(slug="spring").one().goal == 100


# ---- dashboard ---------------------------------------------------------------------------------------

def test_dashboard_editor_edits_with_messages_next_to_fields(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    page = client.get("/staff/campaigns/spring/settings")
    assert page.status_code == 200 and 'value="2025-06-30"' in page.get_data(as_text=True)
    token = csrf(client, "/staff/campaigns/spring/settings")
    bad = client.post("/staff/campaigns/spring/settings", data={
        "csrf_token": token, "goal": "lots", "timezone": "Nowhere/City"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="goal-error">Goal must be a whole number.' in html
    good = client.post("/staff/campaigns/spring/settings", data={
        "csrf_token": token, "ends": "2025-07-31", "count_mode": "net", "title": "Spring drive"})
    assert good.status_code == 302
    page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "moved by +1 (5 → 6)" in page


def test_dashboard_viewer_cannot_edit_and_editor_archives(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    assert client.get("/staff/campaigns/spring/settings").status_code == 403
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring/settings")
    r = client.post("/staff/campaigns/spring/archive", data={"csrf_token": token, "archived": "1"})
    assert r.status_code == 302
    assert client.get("/v1/campaigns/spring/progress").status_code == 410
    assert "archived" in client.get("/staff/campaigns/spring").get_data(as_text=True)


def test_dashboard_creates_a_campaign(client, session, clock):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/new")
    r = client.post("/staff/campaigns/new", data={
        "csrf_token": token, "slug": "autumn", "title": "Autumn", "goal": "300", "starts": "2025-09-01",
        "ends": "2025-11-30", "timezone": "Europe/Kyiv", "default_locale": "uk", "count_mode": "net",
        "join_url": "https://news.example/join"})
    assert r.status_code == 302, r.get_data(as_text=True)
    c = session.query(Campaign).filter_by(slug="autumn").one()
    assert (c.goal, c.timezone, c.default_locale, c.join_url) == (300, "Europe/Kyiv", "uk", "https://news.example/join")


# ---- the paywall's campaign ---------------------------------------------------------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "METER_LIMIT": 1}  # the first members-only article brings the prompt

def prompt_campaign(client, section="news"):
    r = client.post("/v1/access", json={"article": {"id": f"a-{section}", "visibility": "members",
                                                    "section": section}})
    assert r.status_code == 200, r.json
    return r.json["prompt"]["campaign"]


@pytest.fixture
def two_running(session, clock):
    """The real drive and a test campaign that started later: both running on 1 June 2025."""
    real = factories.campaign(session, clock.now(), slug="real", starts=date(2025, 1, 1), ends=date(2025, 12, 31))
    factories.campaign(session, clock.now(), slug="test-x", starts=date(2025, 5, 1), ends=date(2025, 6, 30))
    session.commit()
    return real


def test_paywall_does_not_guess_between_running_campaigns(client, two_running):
    assert prompt_campaign(client) is None  # the generic appeal, not "the one that started last"


def test_paywall_default_is_paywall_campaign(app, client, two_running):
    ctx = app.extensions["paywall"]
    ctx.settings = replace(ctx.settings, campaign_slug="real")  # PAYWALL_CAMPAIGN=real
    assert prompt_campaign(client) == "real"


def test_admin_chooses_per_section_and_archived_is_never_used(client, session, clock, two_running):
    signed_in(client, session, clock, "admin")
    token = csrf(client, "/staff/paywall")
    assert client.post("/staff/paywall", data={"csrf_token": token, "campaign": "real"}).status_code == 302
    assert client.post("/staff/paywall", data={"csrf_token": token, "section": "sport",
                                               "campaign": "test-x"}).status_code == 302
    assert prompt_campaign(client, "news") == "real"
    assert prompt_campaign(client, "sport") == "test-x"
    page = client.get("/staff/paywall").get_data(as_text=True)
    assert "Section sport" in page and "chosen on the dashboard" in page
    index = client.get("/staff/").get_data(as_text=True)
    assert "The paywall uses" in index and "section sport: " in index
    # Archiving the sport section's campaign: the section falls back to the site's choice at once.
    client.post("/staff/campaigns/test-x/archive", data={"csrf_token": token, "archived": "1"})
    assert prompt_campaign(client, "sport") == "real"
    assert "(chosen: test-x, archived)" in client.get("/staff/paywall").get_data(as_text=True)
    assert session.query(AuditEntry).filter_by(action="paywall.campaign").count() == 2


def test_paywall_choice_needs_admin(client, session, clock, two_running):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/paywall")
    assert client.post("/staff/paywall", data={"csrf_token": token, "campaign": "real"}).status_code == 403
