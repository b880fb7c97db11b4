"""Every page a reader or staff member opens, in a real Chromium (Playwright): the join flow from the banner to
(fake) Stripe Checkout and back signed in; and each page at 1280 and 390 px wide, with no horizontal scroll
and no serious or critical axe-core violations, kept as screenshots under tests/artifacts/pages/.

Stripe is the local fake for the API; Checkout's own page (https://checkout.stripe.com) is answered by
Playwright's router, so nothing leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from service import create_app
from service.campaigns import demo, seed
from service.extensions import db
from service.staff import adjustments
from tests.join_support import CHECKOUT_URL, serve_checkout, serve_paid_session, serve_prices
from tests.staff_support import (
    PASSWORD,
    fast_hashing,  # noqa: F401 - autouse fixture
    make_staff,
)
from tests.stripe_events import PRICES_SETTING
from tests.support import ThreadedServer

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
ADMIN = "editor-in-chief@newsroom.example"


class Site:
    """The app served on 127.0.0.1, built once the server's port is known (its own base URL and origin)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.app: Any = None
        self.server = ThreadedServer(self.wsgi)
        self.url = self.server.url
        self.app = create_app({**config, "PUBLIC_BASE_URL": self.url,
                               "SITE_ALLOWED_ORIGINS": f"{self.url},https://news.example"})

    def wsgi(self, environ, start_response):  # noqa: ANN001, ANN201
        return self.app(environ, start_response)


@pytest.fixture
def site(app_config, fake_stripe, clock) -> Iterator[Site]:
    s = Site({**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url})
    with s.app.app_context():
        living_drive(db.session, clock, s.url)
        yield s
        db.session.remove()
        db.engine.dispose()
    s.server.stop()


def living_drive(session, clock, base: str) -> None:
    """The demo campaign mid-drive: seeded sign-ups, widget and checkout counters, an adjustment, a failed
    webhook event; its call to action is the service's own join page."""
    from service.payments.models import CheckoutStart, WebhookEvent
    from service.widget.models import WidgetDaily

    c = demo.create_demo(session, clock.now(), join_url=f"{base}/join?campaign=members-25k&return_url={base}/demo")
    session.commit()
    seed.seed_signups(session, c, 3000, clock.now())
    day = date(2025, 1, 1)
    while day <= date(2025, 6, 1):
        n = 900 + 40 * (day.toordinal() % 7)
        session.add_all([WidgetDaily(campaign_id=c.id, day=day, type="impression", locale="en", count=n * 10),
                         WidgetDaily(campaign_id=c.id, day=day, type="click", locale="en", count=n // 2),
                         CheckoutStart(campaign_id=c.id, day=day, plan="monthly", locale="en", source="",
                                       count=n // 9)])
        day += timedelta(days=1)
    admin = make_staff(session, clock, "admin", email=ADMIN)
    adjustments.add_adjustment(session, c, delta=120, reason="Sign-ups at the spring festival", actor=admin.email,
                               now=clock.now())
    session.add(WebhookEvent(stripe_event_id="evt_1Q2w3E", type="invoice.paid", livemode=False, api_version="",
                             object_id="in_1", created=clock.now(), payload=json.dumps({"id": "evt_1Q2w3E"}),
                             status="failed", attempts=3, last_error="OperationalError: database is locked",
                             received_at=clock.now()))
    session.commit()


def fake_checkout_page(fake_stripe):
    """Stripe Checkout's page: 'Pay' returns to the success URL the service gave Stripe, as Checkout does."""
    def handle(route) -> None:  # noqa: ANN001
        (created,) = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
        back = created.params["success_url"].replace("{CHECKOUT_SESSION_ID}", "cs_join_1")
        route.fulfill(status=200, content_type="text/html",
                      body=f'<!doctype html><title>Checkout</title><a id="pay" href="{back}">Pay</a>')
    return handle


def test_banner_to_checkout_and_back_signed_in(browser, site, fake_stripe, clock, artifacts_dir):
    serve_prices(fake_stripe)
    serve_checkout(fake_stripe)
    serve_paid_session(fake_stripe, clock.now(), email="new.reader@example.org")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.route("https://checkout.stripe.com/**", fake_checkout_page(fake_stripe))
        page.goto(site.url + "/demo?campaign=members-25k")
        page.locator("a.mw-cta").first.click()
        page.wait_for_url(lambda url: "/join?campaign=members-25k" in url)
        assert "$5.00 a month" in page.inner_text("main")
        page.check("#plan-yearly")
        page.click("button.cta")
        page.wait_for_url(CHECKOUT_URL)
        (created,) = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
        assert created.params["line_items"] == [{"price": "price_yearly_test", "quantity": "1"}]
        page.click("#pay")
        page.wait_for_url(lambda url: "/join/welcome?session_id=cs_join_1" in url)
        page.wait_for_selector("[data-testid=signed-in]")
        assert "new.reader@example.org" in page.inner_text("#welcome")
        token = page.evaluate("() => localStorage.getItem('membership.member_token')")
        me = site.app.test_client().get("/v1/members/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.get_json()["email"] == "new.reader@example.org"
        assert page.get_attribute("#welcome a.cta", "href").startswith(f"{site.url}/demo#member_token=")
        page.screenshot(path=str(artifacts_dir / "pages" / "join-welcome-390.png"), full_page=True)
    finally:
        page.close()


def test_the_join_form_works_without_javascript(browser, site, fake_stripe):
    serve_prices(fake_stripe)
    serve_checkout(fake_stripe)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.route("https://checkout.stripe.com/**", fake_checkout_page(fake_stripe))
        page.goto(site.url + "/join?campaign=members-25k&locale=uk")
        page.click("button.cta")
        page.wait_for_url(CHECKOUT_URL)
    finally:
        context.close()


STAFF_PAGES = [("campaigns", "/staff/"), ("dashboard", "/staff/campaigns/members-25k"),
               ("copy-editor", "/staff/campaigns/members-25k/copy?locale=uk"), ("tokens", "/staff/tokens"),
               ("payments-health", "/staff/payments"), ("audit", "/staff/audit")]


def check_page(page, name: str, width: int, artifacts_dir) -> list[str]:
    """Screenshot, horizontal overflow and axe's serious or critical violations of the open page."""
    from axe_playwright_python.sync_playwright import Axe

    page.screenshot(path=str(artifacts_dir / "pages" / f"{name}-{width}.png"), full_page=True)
    problems = []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        wide = page.evaluate("""() => [...document.querySelectorAll('main *, header *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + (e.id || ''))""")
        problems.append(f"{name} at {width}px scrolls sideways by {overflow}px: {wide}")
    results = Axe().run(page)
    for v in results.response["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"]][:3]
            problems.append(f"{name} at {width}px: {v['id']} ({v['impact']}): {v['help']} {targets}")
    return problems


def test_every_page_at_1280_and_390_px_without_sideways_scroll_or_axe_violations(browser, site, fake_stripe,
                                                                                 artifacts_dir):
    serve_prices(fake_stripe)
    (artifacts_dir / "pages").mkdir(exist_ok=True)
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            for name, path in (("join", "/join?campaign=members-25k"), ("join-uk", "/join?locale=uk"),
                               ("welcome", "/join/welcome?session_id=cs_join_1"), ("sign-in", "/staff/login")):
                page.goto(site.url + path)
                problems += check_page(page, name, width, artifacts_dir)
            page.fill("#email", ADMIN)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/staff/")
            for name, path in STAFF_PAGES:
                response = page.goto(site.url + path)
                assert response.status == 200, (path, response.status)
                problems += check_page(page, name, width, artifacts_dir)
        finally:
            context.close()
    assert not problems, "\n".join(problems)
