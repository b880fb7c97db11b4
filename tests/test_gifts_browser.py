"""The gift page in a real Chromium (Playwright): a recipient opens the mailed link, reads the gift in English
or Ukrainian and redeems it with one button (also without JavaScript), at 1280 and 390 px wide, with no
sideways scroll and no serious or critical axe-core violations (screenshots under tests/artifacts/gifts/);
and the staff gifts page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service import create_app
from service.extensions import db
from tests import factories
from tests.staff_support import PASSWORD, fast_hashing, make_staff  # noqa: F401 - autouse fixture
from tests.stripe_events import PRICES_SETTING, build_event, signed
from tests.support import ThreadedServer
from tests.test_gifts import T0, gift_session

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
MESSAGE = "З днем народження! Читай усе, що пишуть про Харків, і не забувай про нас 💙💛 " * 2


class Site:
    def __init__(self, config: dict[str, Any]) -> None:
        self.app: Any = None
        self.server = ThreadedServer(lambda environ, start: self.app(environ, start))
        self.url = self.server.url
        self.app = create_app({**config, "PUBLIC_BASE_URL": self.url,
                               "SITE_ALLOWED_ORIGINS": f"https://news.example,{self.url}"})


@pytest.fixture
def site(app_config, fake_stripe, clock) -> Iterator[Site]:
    s = Site({**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url})
    with s.app.app_context():
        factories.campaign(db.session, clock.now())
        db.session.commit()
        yield s
        db.session.remove()
        db.engine.dispose()
    s.server.stop()


def buy_gift(site: Site, n: int, to: str, locale: str) -> str:
    """A paid gift webhook; returns the redeem link mailed to the recipient."""
    body, headers = signed(build_event("checkout.session.completed",
                                       gift_session(n, to=to, locale=locale, message=MESSAGE), created=T0))
    assert site.app.test_client().post("/v1/webhooks/stripe", data=body, headers=headers).status_code == 200
    db.session.rollback()
    context = db.session.execute(sa.text("SELECT context FROM mail_outbox WHERE to_addr = :to AND kind = "
                                         "'gift_received'"), {"to": to}).scalar()
    return re.search(r"https?://[^\"]+/gifts/[A-Za-z0-9_-]+", context).group(0)


def check_page(page, name: str, width: int, artifacts_dir) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.screenshot(path=str(artifacts_dir / "gifts" / f"{name}-{width}.png"), full_page=True)
    problems = []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{name} at {width}px scrolls sideways by {overflow}px")
    for v in Axe().run(page).response["violations"]:
        if v["impact"] in ("serious", "critical"):
            problems.append(f"{name} at {width}px: {v['id']} ({v['impact']}): {v['help']}")
    return problems


def test_recipient_redeems_the_gift_in_ukrainian_and_english_at_both_widths(browser, site, artifacts_dir):
    (artifacts_dir / "gifts").mkdir(exist_ok=True)
    problems: list[str] = []
    for n, (width, locale) in enumerate([(w, loc) for w in WIDTHS for loc in ("uk", "en")], start=1):
        link = buy_gift(site, n, f"friend{n}@example.org", locale)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(link)
        title = "Подароване членство для вас" if locale == "uk" else "A gift membership for you"
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert page.locator("html").get_attribute("lang") == locale
        problems += check_page(page, f"gift-{locale}", width, artifacts_dir)
        page.get_by_role("button").click()
        page.wait_for_selector("[data-testid=redeemed]")
        assert "2025-12-01" in page.get_by_test_id("redeemed").inner_text()  # six months from 1 June
        start = page.get_by_test_id("start")
        assert start.get_attribute("href").startswith("https://news.example/#member_token=")
        problems += check_page(page, f"redeemed-{locale}", width, artifacts_dir)
        page.goto(link)  # the link again: the gift is used
        assert page.get_by_test_id("gift-error").is_visible()
        problems += check_page(page, f"used-{locale}", width, artifacts_dir)
        page.close()
    assert not problems, "\n".join(problems)


def test_redeeming_works_without_javascript(browser, site):
    link = buy_gift(site, 9, "nojs@example.org", "en")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(link)
    page.get_by_role("button", name="Start my membership").click()
    assert page.get_by_test_id("redeemed").is_visible()
    context.close()


def test_staff_gifts_page_at_both_widths(browser, site, clock, artifacts_dir):
    (artifacts_dir / "gifts").mkdir(exist_ok=True)
    buy_gift(site, 1, "friend@example.org", "en")
    admin = make_staff(db.session, clock, "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site.url}/staff/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{site.url}/staff/gifts/")
        assert "friend@example.org" in page.inner_text("table")
        problems += check_page(page, "staff-gifts", width, artifacts_dir)
    assert not problems, "\n".join(problems)
