"""The join page's ways to support in a real Chromium (Playwright): a reader picks a currency (amounts are
rendered again in place) and types their own amount, gives once, or gives a gift; join.js sends the API's
fields (amount in minor units, the gift as an object) to POST /v1/checkout/sessions and goes on to (fake)
Stripe Checkout; a 422 is a sentence under the field. Each view at 1280 and 390 px without sideways scroll or
serious/critical axe-core violations, screenshots under tests/artifacts/join-support/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from service.extensions import db
from tests import factories
from tests.join_support import CHECKOUT_URL
from tests.join_support_fakes import config, serve
from tests.test_pages_browser import Site, check_page

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


@pytest.fixture
def site(app_config, fake_stripe, clock) -> Iterator[Site]:
    serve(fake_stripe)
    s = Site({**app_config, **config(fake_stripe)})
    with s.app.app_context():
        factories.campaign(db.session, clock.now(), title="Members 2025")
        db.session.commit()
        yield s
        db.session.remove()
        db.engine.dispose()
    s.server.stop()


@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 390, "height": 844})
    p.route("https://checkout.stripe.com/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<title>Checkout</title>"))
    yield p
    p.close()


def checkout_body(page, submit) -> dict[str, Any]:
    """The JSON join.js posts to the checkout API when `submit` runs, once the page has gone to Checkout."""
    with page.expect_request(lambda r: r.url.endswith("/v1/checkout/sessions") and r.method == "POST") as req:
        submit()
    page.wait_for_url(CHECKOUT_URL)
    return json.loads(req.value.post_data)


def test_custom_amount_in_another_currency_goes_to_checkout(page, site, fake_stripe):
    page.goto(site.url + "/join?campaign=members-25k&locale=en")
    assert page.inner_text("[data-testid=amount-1000]") == "$10.00"
    assert page.is_hidden("[data-update]")  # with JavaScript the amounts follow the select in place
    page.select_option("#currency", "eur")
    page.wait_for_function("() => document.querySelector('[data-testid=amount-500]').textContent === '€5.00'")
    assert page.inner_text("#price-monthly") == "€6.00 a month" and "currency=eur" in page.url
    page.fill("#amount-custom", "2")
    assert page.is_checked("#amount-other")
    page.click("button.cta")
    page.wait_for_selector("#amount-error:not([hidden])")
    assert page.inner_text("#amount-error") == "The smallest amount in EUR is €5.00."
    assert page.get_attribute("#amount-custom", "aria-invalid") == "true"
    assert "amount-error" in page.get_attribute("#amount-custom", "aria-describedby")
    page.fill("#amount-custom", "12,50")
    body = checkout_body(page, lambda: page.click("button.cta"))
    assert (body["kind"], body["plan"], body["amount"], body["currency"]) == ("membership", "monthly", 1250, "eur")
    item = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params["line_items"][0]
    assert item["price_data"]["unit_amount"] == "1250" and item["price_data"]["currency"] == "eur"


def test_give_once_in_yen_from_the_tab(page, site, fake_stripe):
    page.goto(site.url + "/join?campaign=members-25k&locale=en")
    page.click("[data-testid=kind-contribution]")
    page.wait_for_url(lambda url: "kind=contribution" in url)
    page.select_option("#currency", "jpy")
    page.wait_for_function("() => !!document.querySelector('[data-testid=amount-3000]')")
    assert page.inner_text("[data-testid=amount-3000]") == "¥3,000"
    page.check("#amount-3000")
    body = checkout_body(page, lambda: page.click("button.cta"))
    assert (body["kind"], body["amount"], body["currency"]) == ("contribution", 3000, "jpy") and "plan" not in body
    params = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params
    assert params["mode"] == "payment" and params["metadata"]["kind"] == "contribution"


def test_give_a_gift(page, site, fake_stripe, clock):
    page.goto(site.url + "/join?campaign=members-25k&locale=uk&kind=gift")
    page.select_option("#currency", "usd")
    page.wait_for_function("() => !!document.querySelector('[data-testid=gift-price-3]')")
    page.check("#gift-months-12")
    page.fill("#gift-email", "friend@example.org")
    page.fill("#gift-name", "Оксана")
    page.fill("#gift-message", "З днем народження!")
    day = (clock.now() + timedelta(days=7)).date().isoformat()
    page.fill("#gift-deliver-on", day)
    body = checkout_body(page, lambda: page.click("button.cta"))
    assert body["kind"] == "gift" and body["currency"] == "usd"
    assert body["gift"] == {"months": 12, "recipient_email": "friend@example.org", "recipient_name": "Оксана",
                            "message": "З днем народження!", "deliver_on": day}
    meta = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params["metadata"]
    assert meta["gift_months"] == "12" and meta["gift_deliver_on"] == day


def test_each_way_at_1280_and_390_px_without_sideways_scroll_or_axe_violations(browser, site, artifacts_dir):
    (artifacts_dir / "join-support").mkdir(exist_ok=True)
    problems: list[str] = []
    views = (("membership", "/join?campaign=members-25k&locale=en"), ("membership-uk", "/join?locale=uk"),
             ("contribution", "/join?kind=contribution&locale=en"), ("gift-uk", "/join?kind=gift&locale=uk"))
    for width in WIDTHS:
        p = browser.new_page(viewport={"width": width, "height": 900})
        try:
            for name, path in views:
                p.goto(site.url + path)
                problems += check_page(p, f"../join-support/{name}", width, artifacts_dir)
            p.goto(site.url + "/join?locale=en")
            p.fill("#amount-custom", "1")
            p.click("button.cta")
            p.wait_for_selector("#amount-error:not([hidden])")
            problems += check_page(p, "../join-support/below-minimum", width, artifacts_dir)
        finally:
            p.close()
    assert not problems, "\n".join(problems)
