"""The staff dashboard in a real browser (Debian's Chromium through Playwright): sign in, see the
charts drawn, edit banner copy and watch the live preview follow; a screenshot for people to look at.

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from service.campaigns import demo, seed
from service.staff import adjustments
from service.widget.models import WidgetDaily
from tests.staff_support import (
    PASSWORD,
    fast_hashing,  # noqa: F401 - autouse fixture
    make_staff,
)
from tests.support import ThreadedServer

pytestmark = pytest.mark.browser



@pytest.fixture
def living_demo(app, session, clock):
    """The demo campaign on 1 June with 9,000 seeded sign-ups, widget and checkout counters, an
    adjustment and a failed webhook event: what a newsroom sees mid-drive."""
    from service.payments.models import CheckoutStart, WebhookEvent

    c = demo.create_demo(session, clock.now(), join_url="https://news.example/join")
    session.commit()
    seed.seed_signups(session, c, 9000, clock.now())
    day = date(2025, 1, 1)
    while day <= date(2025, 6, 1):
        n = 900 + 40 * (day.toordinal() % 7)
        session.add_all([WidgetDaily(campaign_id=c.id, day=day, type="impression", locale="en", count=n * 10),
                         WidgetDaily(campaign_id=c.id, day=day, type="click", locale="en", count=n // 2),
                         CheckoutStart(campaign_id=c.id, day=day, plan="monthly", locale="en", source="",
                                       count=n // 9)])
        day += timedelta(days=1)
    admin = make_staff(session, clock, "admin", email="editor-in-chief@newsroom.example")
    adjustments.add_adjustment(session, c, delta=120, reason="Sign-ups at the spring festival", actor=admin.email,
                               now=clock.now())
    session.add(WebhookEvent(stripe_event_id="evt_1Q2w3E", type="invoice.paid", livemode=False, api_version="",
                             object_id="in_1", created=clock.now(), payload=json.dumps({"id": "evt_1Q2w3E"}),
                             status="failed", attempts=3, last_error="OperationalError: database is locked",
                             received_at=clock.now()))
    session.commit()
    return c


@pytest.fixture
def server(app, living_demo) -> Iterator[str]:
    with ThreadedServer(app) as httpd:
        yield httpd.url


def test_sign_in_dashboard_charts_and_live_copy_preview(browser, server, artifacts_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(server + "/staff/campaigns/members-25k")
        assert "/staff/login" in page.url  # not signed in: the sign-in page, with the way back
        page.fill("#email", "editor-in-chief@newsroom.example")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/staff/campaigns/members-25k")

        count = page.inner_text("[data-testid=count]")
        assert int(count.replace(",", "")) > 8000
        chart = page.locator("svg#chart-cumulative")
        assert chart.is_visible()
        assert page.locator("svg#chart-cumulative > title").text_content() == "Members over the campaign"
        members_line = page.locator("svg#chart-cumulative g.series.line path").nth(1).get_attribute("d")
        assert members_line.count("L") > 100  # a point per day since January
        box = chart.bounding_box()
        assert box["width"] > 600 and box["height"] > 200
        assert page.locator("svg#chart-daily rect").count() > 100
        assert page.locator("#payments-health tr.failed").count() == 1
        page.screenshot(path=str(artifacts_dir / "staff-dashboard.png"), full_page=True)

        page.click("text=Banner copy")
        page.wait_for_url("**/copy")
        preview = page.locator("#preview")
        before = preview.inner_text()
        page.fill("#headline", "Already {count} members: {remaining} to go!")
        expected = f"Already {count} members:"
        page.wait_for_function(
            "([sel, text]) => document.querySelector(sel).innerText.includes(text)", arg=["#preview", expected],
            timeout=10_000)
        assert preview.inner_text() != before
        page.fill("#body", "{nope}")
        page.wait_for_function(
            "() => document.querySelector('#preview').innerText.includes('unknown placeholder {nope}')",
            timeout=10_000)
        page.screenshot(path=str(artifacts_dir / "staff-copy-editor.png"), full_page=True)
        page.fill("#body", "Quality journalism takes work.")
        page.click("button:text('Save')")
        page.wait_for_selector(".flash")
        assert "Saved the launch copy in en" in page.inner_text(".flash")
    finally:
        page.close()
