"""The dashboard's numbers against a data set with known answers; copy editor, adjustments, audit log,
payments health, CSV export and the stats API with tokens."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest

from service.staff.models import AuditEntry, StaffApiToken
from service.widget.models import WidgetDaily
from tests.staff_support import (
    csrf,
    fast_hashing,  # noqa: F401 - autouse fixture
    known_campaign,
    signed_in,
    staff_changes,
)


@pytest.fixture
def spring(app, session, clock):
    return known_campaign(session, clock)


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)<', html, re.S)
    assert match, testid
    return match.group(1).strip()


def test_dashboard_numbers(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    r = client.get("/staff/campaigns/spring")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert text_of(html, "count") == "22"
    assert "of 100 members" in html
    assert text_of(html, "days-left") == "30"
    assert text_of(html, "pace-needed") == "2.6"
    assert text_of(html, "pace-7d") == "1.0"
    assert text_of(html, "projected") == "18 Aug 2025"
    assert "behind the pace needed" in html and "after the deadline" in html


def test_dashboard_charts_are_inline_svg_with_titles_and_axes(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    html = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert "<script" not in html.split("</main>")[0] or "src=" in html  # no inline script on the dashboard
    cumulative = re.search(r'<svg[^>]*id="chart-cumulative".*?</svg>', html, re.S).group(0)
    assert "<title id=\"chart-cumulative-title\">Members over the campaign</title>" in cumulative
    assert "Members (cumulative)" in cumulative and ">Date<" in cumulative
    assert cumulative.count("<path") == 3  # on track, members, projection
    assert "Goal 100" in cumulative and ">May<" not in cumulative  # weekly ticks for a two-month window
    assert "Members: 22 on 2025-06-01" in cumulative  # the last point is today's count
    daily = re.search(r'<svg[^>]*id="chart-daily".*?</svg>', html, re.S).group(0)
    assert "Members per day" in daily and ">Date<" in daily
    assert "2025-05-01: 10 sign-ups" in daily and "2025-05-30: 2 cancellations" in daily
    assert daily.count("<rect") >= 5


def test_dashboard_breakdowns(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    html = client.get("/staff/campaigns/spring").get_data(as_text=True)

    def rows(section: str) -> list[list[str]]:
        block = re.search(rf'id="{section}".*?</table>', html, re.S).group(0)
        out = []
        for tr in re.findall(r"<tr><td>(.*?)</tr>", block, re.S):
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + tr, re.S)]
            out.append(cells)
        return out

    assert rows("by-plan") == [["monthly", "16", "2", "14", "66.7%"], ["yearly", "8", "0", "8", "33.3%"]]
    assert rows("by-locale") == [["en", "19", "2", "17", "79.2%"], ["uk", "5", "0", "5", "20.8%"]]
    assert rows("by-source") == [["newsletter", "13", "0", "13", "54.2%"], ["article:/a", "5", "0", "5", "20.8%"],
                                 ["(unknown)", "6", "2", "4", "25.0%"]]


def test_funnel_reads_widget_and_checkout_counters(client, session, clock, spring):
    from service.payments.models import CheckoutStart

    session.add_all([
        WidgetDaily(campaign_id=spring.id, day=date(2025, 5, 1), type="impression", locale="en", count=1000),
        WidgetDaily(campaign_id=spring.id, day=date(2025, 5, 2), type="impression", locale="uk", count=600),
        WidgetDaily(campaign_id=spring.id, day=date(2025, 5, 1), type="click", locale="en", count=80),
        CheckoutStart(campaign_id=spring.id, day=date(2025, 5, 1), plan="monthly", locale="en", source="", count=40),
    ])
    session.commit()
    signed_in(client, session, clock, "viewer")
    html = client.get("/staff/campaigns/spring").get_data(as_text=True)
    block = re.search(r'id="funnel".*?</table>', html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", block, re.S)]
    assert cells == ["Impressions", "1,600", "—", "Clicks", "80", "5.0%", "Checkouts started", "40", "50.0%",
                     "Sign-ups", "24", "60.0%"]


def test_adjustment_by_an_editor_changes_the_count_and_is_audited(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring")
    r = client.post("/staff/campaigns/spring/adjustments",
                    data={"delta": "+5", "reason": "Sign-ups at the festival", "csrf_token": token})
    assert r.status_code == 302
    html = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert text_of(html, "count") == "27"
    assert "Sign-ups at the festival" in html and "editor@newsroom.example" in html
    entry = staff_changes(session).one()
    assert (entry.actor, entry.action, entry.target) == ("editor@newsroom.example", "adjustment.add", "spring")
    assert entry.details == {"delta": 5, "reason": "Sign-ups at the festival"}
    assert "adjustment.add" in html.split('id="audit"')[1]


def test_invalid_adjustment_is_refused_with_a_message(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring")
    r = client.post("/staff/campaigns/spring/adjustments", data={"delta": "0", "reason": "x", "csrf_token": token})
    assert r.status_code == 422 and "non-zero" in r.get_data(as_text=True)
    r = client.post("/staff/campaigns/spring/adjustments", data={"delta": "lots", "reason": "x", "csrf_token": token})
    assert r.status_code == 422
    assert staff_changes(session).count() == 0


# ---- copy editor ----------------------------------------------------------------------------------------

COPY = {"locale": "en", "stage": "launch", "headline": "{count} of {goal} readers",
        "body": "{remaining, plural, one {# to go} other {# to go}}", "cta_label": "Join now", "cta_url": ""}


def test_copy_editor_saves_and_the_banner_uses_it(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    page = client.get("/staff/campaigns/spring/copy?locale=en&stage=launch")
    assert page.status_code == 200
    token = csrf(client, "/staff/campaigns/spring/copy")
    r = client.post("/staff/campaigns/spring/copy", data={**COPY, "csrf_token": token})
    assert r.status_code == 302
    banner = client.get("/v1/campaigns/spring/progress?locale=en").get_json()["banner"]
    assert banner["headline"] == "22 of 100 readers" and banner["body"] == "78 to go"
    entry = staff_changes(session).one()
    assert entry.action == "copy.edit" and entry.target == "spring/en/launch"
    assert entry.details["headline"] == "{count} of {goal} readers"


def test_invalid_placeholder_is_shown_next_to_the_field(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring/copy")
    r = client.post("/staff/campaigns/spring/copy",
                    data={**COPY, "headline": "{count} of {gaol}", "csrf_token": token})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = re.search(r'id="headline-error">(.*?)</p>', html, re.S).group(1)
    assert "unknown placeholder {gaol}" in error and "{goal}" in error
    assert 'aria-invalid="true"' in html
    assert "{count} of {gaol}" in html  # what was typed is kept
    assert staff_changes(session).count() == 0


def test_preview_renders_the_banner_at_the_current_count(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")  # previewing changes nothing: viewers may
    token = csrf(client, "/staff/campaigns/spring/copy")
    r = client.post("/staff/campaigns/spring/copy/preview",
                    data={**COPY, "headline": "Only {remaining} left", "csrf_token": token})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Only 78 left" in html and 'aria-valuenow="22"' in html
    r = client.post("/staff/campaigns/spring/copy/preview",
                    data={**COPY, "headline": "{oops}", "csrf_token": token})
    assert "unknown placeholder {oops}" in r.get_data(as_text=True)
    r = client.post("/staff/campaigns/spring/copy/preview", data=COPY)
    assert r.status_code == 400  # CSRF here too


# ---- exports and the stats API ----------------------------------------------------------------------------

def test_signups_csv(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    r = client.get("/staff/campaigns/spring/signups.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows == [
        ["date", "plan", "source", "locale", "joined", "ended"],
        ["2025-05-01", "monthly", "newsletter", "en", "10", "0"],
        ["2025-05-20", "yearly", "article:/a", "uk", "5", "0"],
        ["2025-05-28", "monthly", "", "en", "6", "0"],
        ["2025-05-30", "monthly", "", "en", "0", "2"],
        ["2025-06-01", "yearly", "newsletter", "en", "3", "0"],
    ]
    assert "@" not in r.get_data(as_text=True)  # no emails


def test_csv_cells_that_look_like_formulas_are_quoted(client, session, clock, spring):
    from tests import factories
    from tests.staff_support import at

    factories.member(session, clock.now(), first_paid_at=at(2025, 5, 5), source="=HYPERLINK(\"x\")")
    session.commit()
    signed_in(client, session, clock, "viewer")
    body = client.get("/staff/campaigns/spring/signups.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_api_token_create_use_revoke(client, session, clock, spring):
    signed_in(client, session, clock, "admin")
    token = csrf(client, "/staff/tokens")
    r = client.post("/staff/tokens", data={"name": "weekly report", "csrf_token": token})
    assert r.status_code == 201
    secret = re.search(r'data-testid="new-token">(mst_[^<]+)<', r.get_data(as_text=True)).group(1)
    row = session.query(StaffApiToken).one()
    assert secret not in row.token_hash and row.prefix == secret[:10]
    assert secret not in client.get("/staff/tokens").get_data(as_text=True)  # shown once

    api = client.application.test_client()  # no session: the token alone
    r = api.get("/v1/staff/campaigns/spring/stats", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["count"] == 22 and body["goal"] == 100 and body["days_left"] == 30
    assert body["pace"] == {"daily_needed": 2.6, "daily_average_7d": 1.0, "projected_reach_date": "2025-08-18"}
    assert body["daily"][0] == {"date": "2025-05-01", "joined": 10, "ended": 0, "cumulative": 10}
    assert body["daily"][-1] == {"date": "2025-06-01", "joined": 3, "ended": 0, "cumulative": 22}
    assert len(body["daily"]) == 32
    assert body["breakdowns"]["plan"][0] == {"key": "monthly", "joined": 16, "ended": 2, "net": 14, "percent": 66.7}
    assert [s["step"] for s in body["funnel"]] == ["Impressions", "Clicks", "Checkouts started", "Sign-ups"]
    r = api.get("/staff/campaigns/spring/signups.csv", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    session.refresh(row)
    assert row.last_used_at == clock.now()

    token = csrf(client, "/staff/tokens")
    assert client.post(f"/staff/tokens/{row.id}/revoke", data={"csrf_token": token}).status_code == 302
    r = api.get("/v1/staff/campaigns/spring/stats", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    actions = [e.action for e in staff_changes(session).order_by(AuditEntry.id)]
    assert actions == ["token.create", "token.use", "export.csv", "token.revoke"]  # one use a minute
    assert all(secret not in json.dumps(e.details) for e in staff_changes(session))


def test_stats_for_an_unknown_campaign_is_404(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    r = client.get("/v1/staff/campaigns/nope/stats")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_campaign_list(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    html = client.get("/staff/").get_data(as_text=True)
    assert "Spring drive" in html and 'href="/staff/campaigns/spring"' in html and "22% of goal" in html


# ---- payments health --------------------------------------------------------------------------------------

def _event(session, clock, event_id: str, status: str, error: str = "", payload: dict | None = None):
    from service.payments.models import WebhookEvent

    row = WebhookEvent(stripe_event_id=event_id, type="customer.updated", livemode=False, api_version="",
                       object_id="cus_1", created=clock.now(), status=status, attempts=1, last_error=error,
                       payload=json.dumps(payload or {"id": event_id}), received_at=clock.now())
    session.add(row)
    session.flush()
    return row


def test_payments_health_lists_failed_events_first_and_the_last_reconciliation(client, session, clock, spring):
    from service.payments.models import ReconciliationRun

    _event(session, clock, "evt_ok", "applied")
    clock.advance(minutes=1)
    _event(session, clock, "evt_newer_ok", "ignored")
    _event(session, clock, "evt_bad", "failed", "KeyError: 'customer'")
    session.add(ReconciliationRun(started_at=clock.now(), finished_at=clock.now(), dry_run=False, examined=12,
                                  changed=1, summary=json.dumps({"changes": [
                                      {"subscription": "sub_9", "member_id": 3,
                                       "fields": {"status": ["active", "canceled"]}}], "errors": []})))
    session.commit()
    signed_in(client, session, clock, "admin")
    html = client.get("/staff/campaigns/spring").get_data(as_text=True)
    block = html.split('id="payments-health"')[1]
    order = [m for m in re.findall(r"<code>(evt_[a-z_]+)</code>", block)]
    assert order == ["evt_bad", "evt_newer_ok", "evt_ok"]
    assert "KeyError: &#39;customer&#39;" in block
    assert block.count(">Replay</button>") == 1
    assert "examined 12 subscriptions, changed 1" in block
    assert "sub_9 (member 3): status: active → canceled" in block


def test_replay_calls_the_payments_replay_and_is_audited(client, session, clock, spring, monkeypatch):
    from service.payments import ledger
    from service.payments.ledger import Applied

    row = _event(session, clock, "evt_bad", "failed", "boom")
    session.commit()
    calls = []

    def fake_replay(s, *, failed, event_ids, settings, now):
        calls.append((failed, list(event_ids)))
        yield Applied("evt_bad", "customer.updated", "applied")

    monkeypatch.setattr(ledger, "replay", fake_replay)
    signed_in(client, session, clock, "admin")
    token = csrf(client, "/staff/campaigns/spring")
    r = client.post(f"/staff/webhooks/{row.id}/replay",
                    data={"csrf_token": token, "back": "/staff/campaigns/spring#payments-health"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/staff/campaigns/spring")
    assert calls == [(False, ["evt_bad"])]
    entry = staff_changes(session).one()
    assert entry.action == "webhook.replay" and entry.details["outcome"] == "applied"
    assert client.post("/staff/webhooks/999/replay", data={"csrf_token": token}).status_code == 404


def test_link_of_the_call_to_action_must_be_absolute_http(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring/copy")
    for bad in ("javascript:alert(1)", "/join", "news.example/join"):
        r = client.post("/staff/campaigns/spring/copy", data={**COPY, "cta_url": bad, "csrf_token": token})
        assert r.status_code == 422 and "full https://" in r.get_data(as_text=True)
    r = client.post("/staff/campaigns/spring/copy",
                    data={**COPY, "cta_url": "https://news.example/join?from=banner", "csrf_token": token})
    assert r.status_code == 302


@pytest.mark.parametrize("now", ["2025-04-01T12:00:00+00:00", "2025-08-01T12:00:00+00:00"])
def test_dashboard_before_and_after_the_window(client, session, clock, spring, now):
    from datetime import datetime

    signed_in(client, session, clock, "viewer")
    clock.set(datetime.fromisoformat(now))
    r = client.get("/staff/campaigns/spring")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="chart-cumulative"' in html and 'id="chart-daily"' in html
    expected = {"2025-04-01": ("scheduled", "61"), "2025-08-01": ("ended", "0")}[now[:10]]
    assert f"status-{expected[0]}" in html and text_of(html, "days-left") == expected[1]
    assert client.get("/v1/staff/campaigns/spring/stats").status_code == 200


def test_anonymous_form_post_goes_to_sign_in_without_a_way_back_to_the_post(client, spring):
    r = client.post("/staff/campaigns/spring/adjustments", data={"delta": "1", "reason": "x"})
    assert r.status_code == 302 and r.headers["Location"] == "/staff/login"


def test_roll_up_aggregates_are_cached_per_counter_state(app, client, session, clock, spring):
    """Repeated views do not re-read the roll-ups; a counted change shows at once."""
    from service.extensions import db
    from tests import factories
    from tests.staff_support import at
    from tests.support import Statements

    signed_in(client, session, clock, "viewer")
    with Statements(db.engine) as s:
        client.get("/staff/campaigns/spring")
        first = [q for q in s.sql if "campaign_daily" in q]
        s.sql.clear()
        client.get("/staff/campaigns/spring")
        again = [q for q in s.sql if "campaign_daily" in q and "GROUP BY" in q and "day >=" not in q]
        assert first and not again
        factories.member(session, clock.now(), first_paid_at=at(2025, 5, 31), plan="lifetime", locale="en")
        session.commit()
        html = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert text_of(html, "count") == "23" and "<td>lifetime</td>" in html
    assert app.extensions["staff_dashboard_cache"].hits >= 1
