"""The dashboard tells the truth (issue 13, item 4): labels that never overlap, an ended campaign that says
how it ended, a chart that agrees with the headline count or says why not, a funnel from one source with
seeded sign-ups marked, a failed reconciliation labelled failed, ignored webhooks with their reason, and
percentages over 100 read as "…% of goal"."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from service.campaigns import demo, seed
from service.payments.models import ReconciliationRun, WebhookEvent
from service.staff import adjustments, charts, stats
from tests import factories
from tests.staff_support import (
    at,
    fast_hashing,  # noqa: F401 - autouse fixture
    known_campaign,
    signed_in,
)


def text_of(html: str, testid: str) -> str | None:
    """The text of the element with that test id (up to the end of its paragraph, cell or span)."""
    m = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:p|span|dd|td)>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else None


@pytest.fixture
def spring(session, clock):
    return known_campaign(session, clock)


def page(client, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200
    return r.get_data(as_text=True)


# --- chart labels ---------------------------------------------------------------------------------------

def label_boxes(svg: str) -> dict[str, charts.Box]:
    out = {}
    for cls, text in (("ref-label", None), ("today-label", "today")):
        m = re.search(rf'<text class="{cls}" x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]+)</text>', svg)
        assert m, cls
        out[cls] = charts.text_box(float(m.group(1)), float(m.group(2)), text or m.group(4), m.group(3))
    return out


@pytest.mark.parametrize("goal,count", [(25_000, 24_000), (25_000, 3_000), (100, 171)])
def test_goal_and_today_labels_never_overlap_whatever_the_day(goal, count):
    first, last = date(2025, 1, 1), date(2025, 12, 31)
    for offset in range(0, 365, 5):
        today = first + timedelta(days=offset)
        cumulative = [(today, count)]
        svg = str(charts.cumulative_chart(cumulative, stats.on_track_line(first, last, goal), [], goal, first, last,
                                          today))
        boxes = label_boxes(svg)
        assert not charts.overlaps(boxes["ref-label"], boxes["today-label"]), today
        assert charts.LEFT <= boxes["today-label"][0] and boxes["today-label"][2] <= charts.WIDTH - charts.RIGHT


def test_labels_do_not_overlap_as_chromium_draws_them(browser):
    first, last, today = date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 28)
    svg = str(charts.cumulative_chart([(today, 24_000)], stats.on_track_line(first, last, 25_000), [], 25_000,
                                      first, last, today))
    page = browser.new_page()
    try:
        page.set_content(f"<!doctype html><body style='width:760px'>{svg}</body>")
        a, b = (page.evaluate(f"() => {{ const r = document.querySelector('.{c}').getBoundingClientRect(); "
                              "return [r.left, r.top, r.right, r.bottom]; }")
                for c in ("ref-label", "today-label"))
        assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    finally:
        page.close()


# --- an ended campaign -------------------------------------------------------------------------------------

def test_an_ended_campaign_says_how_it_ended(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    clock.set(datetime(2025, 8, 1, 12, tzinfo=UTC))
    html = page(client, "/staff/campaigns/spring")
    assert text_of(html, "outcome") == ("Ended on 30 Jun 2025 with 22 members, 78 short of the goal of 100 "
                                        "(22% of goal).")
    assert "behind the pace needed" not in html and "Pace needed" not in html
    adjustments.add_adjustment(session, spring, delta=150, reason="Festival sign-ups", actor="x", now=clock.now())
    session.commit()
    html = page(client, "/staff/campaigns/spring")
    assert text_of(html, "outcome") == ("Ended on 30 Jun 2025 with 172 members: the goal of 100 was reached "
                                        "(172% of goal).")
    assert text_of(html, "percent") == "172% of goal"
    assert "172% of goal" in page(client, "/staff/")


def test_a_running_campaign_keeps_its_pace(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    html = page(client, "/staff/campaigns/spring")
    assert text_of(html, "outcome") is None and "behind the pace needed" in html
    assert text_of(html, "chart-note") is None  # the chart's last point is the count


def test_cancellations_after_the_end_are_named_where_chart_and_count_differ(client, session, clock, spring):
    m = factories.member(session, clock.now(), first_paid_at=at(2025, 6, 10), plan="monthly")
    session.commit()
    m.ended_at, m.status = at(2025, 7, 10), "canceled"
    session.commit()
    signed_in(client, session, clock, "viewer")
    clock.set(datetime(2025, 8, 1, 12, tzinfo=UTC))
    html = page(client, "/staff/campaigns/spring")
    assert text_of(html, "count") == "22"
    assert text_of(html, "chart-note") == ("The count (22) is 1 lower than the chart's last point (23 on 2025-06-30): "
                                           "1 cancellation after the campaign ended.")


# --- the funnel ----------------------------------------------------------------------------------------------

def test_seeded_sign_ups_stay_out_of_the_funnel_and_are_marked(client, session, clock):
    clock.set(datetime(2025, 3, 1, 9, tzinfo=UTC))
    c = demo.create_demo(session, clock.now())
    session.commit()
    clock.set(datetime(2025, 6, 1, 12, tzinfo=UTC))
    seed.seed_signups(session, c, 500, clock.now())
    session.commit()
    signed_in(client, session, clock, "viewer")
    html = page(client, "/staff/campaigns/members-25k")
    funnel = re.search(r'id="funnel".*?</table>', html, re.S).group(0)
    steps = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([\d,]+)</td>", funnel))
    assert steps["Checkouts started"] == "0" and steps["Sign-ups"] == "0"
    assert "500 seeded sign-ups" in text_of(html, "seeded")
    by_source = re.search(r'id="by-source".*?</table>', html, re.S).group(0)
    assert "seeded:newsletter" in by_source


# --- payments health -----------------------------------------------------------------------------------------

def test_failed_reconciliation_and_ignored_events_say_so(client, session, clock):
    session.add(ReconciliationRun(started_at=clock.now(), finished_at=clock.now(), dry_run=False, examined=40,
                                  changed=0, summary=json.dumps({"changes": [], "errors": ["Stripe error after 40 "
                                                                                          "subscriptions: APIError"]})))
    for i, (kind, livemode) in enumerate((("product.created", False), ("checkout.session.completed", False),
                                          ("invoice.paid", True))):
        session.add(WebhookEvent(stripe_event_id=f"evt_ign_{i}", type=kind, livemode=livemode, api_version="",
                                 object_id="x", created=clock.now(), payload="{}", status="ignored", attempts=1,
                                 received_at=clock.now() - timedelta(minutes=i)))
    session.commit()
    signed_in(client, session, clock, "admin")
    html = page(client, "/staff/payments")
    assert text_of(html, "reconciliation-failed").startswith("Failed. Run 1 started 2025-06-01 12:00 UTC, failed:")
    assert "Error: Stripe error after 40 subscriptions" in html
    assert "Ignored: not an event type the service acts on" in html
    assert "Ignored: not a membership checkout (another mode, or a plan not in STRIPE_PRICES)." in html
    assert "Ignored: a live-mode event, and this service uses a test key." in html


def test_payments_page_is_for_admins(client, session, clock):
    signed_in(client, session, clock, "editor")
    assert client.get("/staff/payments").status_code == 403


# --- the copy editor -----------------------------------------------------------------------------------------

COPY = {"locale": "uk", "stage": "launch", "headline": "Нас уже {count}", "body": "Дякуємо.", "cta_label": "Долучитися",
        "cta_url": ""}


def test_plural_hint_shows_the_locales_own_categories(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    uk = text_of(page(client, "/staff/campaigns/spring/copy?locale=uk"), "plural-hint")
    assert "Plural forms in uk: one, few, many, other" in " ".join(uk.split())
    assert "one {# член} few {# члени} many {# членів} other {# члена}" in uk
    en = text_of(page(client, "/staff/campaigns/spring/copy?locale=en"), "plural-hint")
    assert "Plural forms in en: one, other" in " ".join(en.split())


def test_adding_a_locale_is_a_control(client, session, clock, spring):
    signed_in(client, session, clock, "editor")
    html = page(client, "/staff/campaigns/spring/copy")
    form = re.search(r'<form method="get"[^>]*data-testid="add-locale".*?</form>', html, re.S).group(0)
    assert '<label for="add-locale">Add a locale</label>' in form
    assert '<option value="de">German · Deutsch (de)</option>' in form and 'value="en"' not in form
    html = page(client, "/staff/campaigns/spring/copy?stage=launch&locale=de")  # what submitting it opens
    assert 'aria-current="page">de</a>' in html and '<input type="hidden" name="locale" value="de">' in html


def test_errors_are_sentences_next_to_their_field(client, session, clock, spring):
    from tests.staff_support import csrf

    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring/copy?locale=uk")
    r = client.post("/staff/campaigns/spring/copy", data={**COPY, "headline": "Нас {nope}", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    error = re.search(r'<label for="headline">Headline</label>\s*<p class="field-error" role="alert" '
                      r'id="headline-error">([^<]+)</p>\s*'
                      r'<textarea id="headline"[^>]*aria-describedby="headline-error"',
                      html)
    assert error and error.group(1).strip().endswith(".") and "nope" in error.group(1)
    assert re.search(r'<textarea id="body" name="body" rows="7"', html)  # room for Ukrainian


def test_viewers_see_read_only_text_that_looks_read_only(client, session, clock, spring):
    signed_in(client, session, clock, "viewer")
    html = page(client, "/staff/campaigns/spring/copy?locale=uk")
    assert "only editors and admins change it" in text_of(html, "read-only")
    assert re.search(r'<textarea id="headline"[^>]*readonly aria-readonly="true"', html)
    assert 'data-testid="add-locale"' not in html and ">Save</button>" not in html
    css = client.get("/staff/static/staff.css").get_data(as_text=True)
    assert "textarea[readonly]" in css
