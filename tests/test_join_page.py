"""The join page (issue 13, item 3): a reader goes from the banner to Stripe Checkout and back, signed in.

Stripe is the local fake (tests/fakestripe.py): prices are read from it once per worker, checkouts are
created on it, and the welcome page claims a paid session it serves."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from service.payments.models import CheckoutStart
from service.paywall.models import OutboxMessage
from tests import factories
from tests.join_support import CHECKOUT_URL, serve_checkout, serve_paid_session, serve_prices
from tests.stripe_events import PRICES_SETTING


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now(), title="Members 2025")
    for _ in range(3):
        factories.member(session, clock.now(), first_paid_at=clock.now() - timedelta(days=1))
    session.commit()
    return c


def page(client, path: str, **kw) -> str:
    r = client.get(path, **kw)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_data(as_text=True)


def test_join_page_shows_progress_and_plans_with_their_prices(client, campaign, fake_stripe):
    serve_prices(fake_stripe)
    html = page(client, "/join?campaign=members-25k&plan=yearly")
    assert '<html lang="en">' in html
    assert "Members 2025" in html and "3 of 25,000 members" in html
    assert re.search(r'<progress id="join-progress" max="25000" value="3"', html)
    assert "Monthly" in html and "$5.00 a month" in html
    assert "Yearly" in html and "€50.00 a year" in html
    assert re.search(r'value="yearly" checked', html)  # the plan the link asked for is chosen
    assert 'action="/join/checkout"' in html and 'data-api="/v1/checkout/sessions"' in html


def test_prices_are_read_from_stripe_once_per_worker_until_the_ttl(client, campaign, fake_stripe, clock):
    serve_prices(fake_stripe)
    for _ in range(3):
        page(client, "/join")
    assert len([r for r in fake_stripe.requests if r.path.startswith("/v1/prices/")]) == 2
    clock.advance(seconds=601)
    page(client, "/join")
    assert len([r for r in fake_stripe.requests if r.path.startswith("/v1/prices/")]) == 4


def test_ukrainian_page_from_the_locale_parameter_or_the_browser(client, campaign, fake_stripe):
    serve_prices(fake_stripe)
    for html in (page(client, "/join?locale=uk-UA"), page(client, "/join", headers={"Accept-Language": "uk,en;q=0.5"})):
        assert '<html lang="uk">' in html
        assert "3 з 25\xa0000 членів" in html
        assert "Щомісяця" in html and "5,00\xa0USD на місяць" in html
        assert "Перейти до оплати" in html
    r = client.get("/join")
    assert r.headers["Vary"] == "Accept-Language" and r.headers["Cache-Control"] == "no-store"


def test_without_configured_plans_it_says_so(app_config, campaign):
    from service import create_app

    app = create_app({**app_config, "STRIPE_PRICES": ""})
    html = page(app.test_client(), "/join")
    assert "no membership plans are set up" in html
    assert "join-form" not in html


def test_a_price_stripe_does_not_answer_for_is_still_offered(client, campaign, fake_stripe):
    serve_prices(fake_stripe)
    fake_stripe.error("GET", r"/v1/prices/price_yearly_test", status=500, type_="api_error", message="boom")
    html = page(client, "/join")
    assert "$5.00 a month" in html and "price shown at checkout" in html and 'value="yearly"' in html


def test_the_form_without_javascript_starts_checkout_and_redirects_to_stripe(client, session, campaign,
                                                                              fake_stripe):
    serve_prices(fake_stripe)
    serve_checkout(fake_stripe)
    r = client.post("/join/checkout", data={"campaign": "members-25k", "plan": "yearly", "locale": "uk",
                                            "return_url": "https://news.example/story?id=1", "article": "a-7"})
    assert r.status_code == 303 and r.headers["Location"] == CHECKOUT_URL
    (req,) = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert req.params["line_items"] == [{"price": "price_yearly_test", "quantity": "1"}]
    assert req.params["metadata"]["campaign"] == "members-25k" and req.params["metadata"]["source"] == "article:a-7"
    success = urlsplit(req.params["success_url"])
    assert success.path == "/join/welcome" and "session_id={CHECKOUT_SESSION_ID}" in success.query
    assert parse_qs(success.query)["return_url"] == ["https://news.example/story?id=1"]
    assert urlsplit(req.params["cancel_url"]).path == "/join"
    assert session.scalar(sa.select(CheckoutStart.count)) == 1


def test_the_page_hands_the_api_the_same_checkout(client, campaign, fake_stripe):
    """With JavaScript the form's fields go to POST /v1/checkout/sessions as they are."""
    serve_prices(fake_stripe)
    serve_checkout(fake_stripe)
    html = page(client, "/join?campaign=members-25k")
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    body = {**{k: v.replace("&amp;", "&") for k, v in fields.items()}, "plan": "monthly"}
    r = client.post("/v1/checkout/sessions", json=body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["url"] == CHECKOUT_URL


def test_a_checkout_stripe_refuses_is_explained_on_the_page(client, campaign, fake_stripe):
    serve_prices(fake_stripe)
    fake_stripe.error("POST", r"/v1/checkout/sessions", status=500, type_="api_error", message="Try later.")
    r = client.post("/join/checkout", data={"campaign": "members-25k", "plan": "monthly"})
    assert r.status_code == 502
    assert "We could not start the payment" in r.get_data(as_text=True)


def test_an_unknown_return_url_is_dropped(client, campaign, fake_stripe):
    serve_prices(fake_stripe)
    html = page(client, "/join?return_url=https://evil.example/x")
    assert "evil.example" not in html


def test_welcome_claims_a_new_members_checkout_and_signs_them_in(client, campaign, fake_stripe, clock):
    serve_paid_session(fake_stripe, clock.now())
    html = page(client, "/join/welcome?session_id=cs_join_1&locale=en&return_url=https://news.example/story")
    assert 'data-claim="/v1/checkout/sessions/cs_join_1/claim"' in html  # join.js claims through the API
    r = client.post("/join/welcome", data={"session_id": "cs_join_1", "return_url": "https://news.example/story"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "signed in as new.reader@example.org" in html
    token = re.search(r'href="https://news.example/story#member_token=([^"]+)"', html).group(1)
    me = client.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["email"] == "new.reader@example.org"


def test_welcome_for_an_existing_member_sends_a_link_instead(client, session, campaign, fake_stripe, clock):
    m = factories.member(session, clock.now(), email="old.member@example.org",
                         first_paid_at=clock.now() - timedelta(days=90))
    m.stripe_customer_id = "cus_old"
    session.commit()
    serve_paid_session(fake_stripe, clock.now(), email="old.member@example.org")
    html = client.post("/join/welcome", data={"session_id": "cs_join_1", "locale": "uk"}).get_data(as_text=True)
    assert "перевірте вхідні листи" in html and "member_token" not in html
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.to_addr == "old.member@example.org")) == 1


def test_welcome_without_a_session_or_for_an_unknown_one(client, campaign, fake_stripe):
    assert "Start on the join page" in page(client, "/join/welcome")
    html = client.post("/join/welcome", data={"session_id": "cs_nope"}).get_data(as_text=True)
    assert "We could not find this payment" in html


def test_default_call_to_action_links_lead_to_a_page_that_exists(app, client, session, campaign, fake_stripe,
                                                                 clock):
    """The paywall prompt and the sign-in mail fall back to PAYWALL_JOIN_URL (PUBLIC_BASE_URL + /join)."""
    serve_prices(fake_stripe)
    prompt = client.post("/v1/access", json={"article": {"id": "a1", "section": "news", "members_only": True},
                                             "reader_id": "rdr_1", "locale": "en"}).get_json()
    url = (prompt.get("prompt") or {}).get("checkout_url") or app.extensions["paywall"].settings.join_url
    parts = urlsplit(url)
    assert parts.path == "/join"
    assert "Members 2025" in page(client, f"{parts.path}?{parts.query}")
    client.post("/v1/auth/magic-links", json={"email": "stranger@example.org", "return_url": "https://news.example/"})
    body = session.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.to_addr == "stranger@example.org"))
    link = urlsplit(re.search(r"(http\S+/join\S*)", body).group(1))
    assert link.path == "/join" and page(client, f"{link.path}?{link.query}")


def test_the_join_page_never_attributes_to_an_archived_campaign(client, session, campaign, clock, fake_stripe):
    serve_prices(fake_stripe)
    other = factories.campaign(session, clock.now() - timedelta(days=1), slug="spring", title="Spring drive")
    other.archived_at = clock.now()
    session.commit()
    html = page(client, "/join?campaign=spring")  # a link still names the archived campaign
    assert "Spring drive" not in html and "Members 2025" in html
    assert 'name="campaign" value="members-25k"' in html
