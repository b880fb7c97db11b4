"""The join page's ways to support (issue 15 items 1-4 from the join page): a flexible plan's preset amounts
and a custom amount with its minimum, in the reader's locale and a currency of their choice; giving once;
giving a gift. Without JavaScript the form posts each kind to /join/checkout, which starts the Checkout on the
(fake) Stripe with the API's own fields and sends the reader there (303)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests import factories
from tests.join_support import CHECKOUT_URL
from tests.join_support_fakes import PRODUCT, config, serve


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, **config(fake_stripe)}


@pytest.fixture
def campaign(session, clock, fake_stripe):
    serve(fake_stripe)
    c = factories.campaign(session, clock.now(), title="Members 2025")
    session.commit()
    return c


def page(client, path: str, **kw) -> str:
    r = client.get(path, **kw)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_data(as_text=True)


def sent(fake_stripe) -> dict:
    return fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params


def post(client, **fields):
    return client.post("/join/checkout", data={"campaign": "members-25k", **fields})


def test_presets_and_custom_field_with_the_minimum_in_english(client, campaign):
    html = page(client, "/join?plan=monthly&locale=en")
    for value, shown in ((500, "$5.00"), (1000, "$10.00"), (2500, "$25.00")):
        assert re.search(rf'name="amount" id="amount-{value}" value="{value}"', html)
        assert f'data-testid="amount-{value}">{shown}</span>' in html
    assert re.search(r'id="amount-1000" value="1000" checked', html)  # the middle one is suggested
    assert 'name="amount_custom" id="amount-custom"' in html and 'aria-describedby="amount-hint amount-error"' in html
    assert "At least $5.00. For example 5.50." in html
    assert re.search(r'<option value="usd" selected>USD · US Dollar</option>', html)
    assert '<option value="eur"' in html and '<option value="uah"' in html  # flexible: every minimum's currency
    assert "from $5.00 a month" not in html and "$5.00 a month" in html  # monthly's own USD price


def test_presets_and_custom_field_in_ukrainian_default_to_hryvnia(client, campaign):
    html = page(client, "/join?plan=monthly&locale=uk")
    assert re.search(r'<option value="uah" selected>UAH · українська гривня</option>', html)  # as the API picks
    assert 'data-testid="amount-20000">200,00\xa0₴</span>' in html
    assert 'data-testid="amount-100000">1\xa0000,00\xa0₴' in html
    assert "Щонайменше 200,00\xa0₴. Наприклад, 200,50." in html
    assert "від 200,00\xa0₴ на місяць" in html  # the flexible plan in hryvnias: from the minimum
    assert "Інша сума" in html and "Оберіть членство" in html


def test_switching_currency_rerenders_amounts_and_prices(client, campaign):
    html = page(client, "/join?plan=monthly&currency=eur&locale=en")
    assert re.search(r'<option value="eur" selected>', html)
    assert 'data-testid="amount-500">€5.00</span>' in html and "€6.00 a month" in html  # monthly.eur's own price
    assert "€50.00 a year" in html
    jpy = page(client, "/join?kind=contribution&currency=jpy&locale=en")
    assert 'data-testid="amount-3000">¥3,000</span>' in jpy and 'inputmode="numeric"' in jpy
    assert "At least ¥500. For example 501." in jpy
    assert 'data-exponent="0"' in jpy
    # an unknown currency falls back to the reader's, never an error
    assert re.search(r'<option value="usd" selected>', page(client, "/join?plan=monthly&currency=xyz&locale=en"))
    # no-JS: the currency's own button reloads the page with GET
    assert 'formmethod="get" formaction="/join"' in html


def test_no_js_membership_at_a_preset_amount_and_currency(client, campaign, fake_stripe):
    r = post(client, plan="monthly", kind="membership", currency="eur", amount="2500", amount_custom="")
    assert r.status_code == 303 and r.headers["Location"] == CHECKOUT_URL
    params = sent(fake_stripe)
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"] == {"currency": "eur", "product": PRODUCT, "unit_amount": "2500",
                                                     "recurring": {"interval": "month", "interval_count": "1"}}


def test_no_js_custom_amount_wins_over_the_preset_and_zero_decimals_are_right(client, campaign, fake_stripe):
    assert post(client, plan="monthly", currency="usd", amount="1000", amount_custom="7,50").status_code == 303
    assert sent(fake_stripe)["line_items"][0]["price_data"]["unit_amount"] == "750"
    r = post(client, kind="contribution", currency="jpy", amount="custom", amount_custom="1 200")
    assert r.status_code == 303
    params = sent(fake_stripe)
    assert params["mode"] == "payment" and params["metadata"]["kind"] == "contribution"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "1200"
    assert params["line_items"][0]["price_data"]["currency"] == "jpy"


def test_no_js_fixed_plan_ignores_amount_fields(client, campaign, fake_stripe):
    r = post(client, plan="yearly", currency="usd", amount="1000", amount_custom="9")
    assert r.status_code == 303
    assert sent(fake_stripe)["line_items"] == [{"price": "price_yearly_test", "quantity": "1"}]


def test_below_the_minimum_is_a_sentence_next_to_the_field(client, campaign, fake_stripe):
    r = post(client, plan="monthly", currency="usd", amount="custom", amount_custom="2", locale="en")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'<p class="field-error" id="amount-error" data-error-for="amount"[^>]*>\s*'
                     r'The smallest amount in USD is \$5.00.</p>', html)
    assert 'aria-invalid="true"' in html and 'value="2"' in html  # the typed amount is kept
    assert "Please check the highlighted field below." in html
    r = post(client, kind="contribution", currency="uah", amount="custom", amount_custom="150", locale="uk")
    assert r.status_code == 422 and "Найменша сума в UAH — 200,00\xa0₴." in r.get_data(as_text=True)
    r = post(client, kind="contribution", currency="usd", amount="custom", amount_custom="five", locale="en")
    assert r.status_code == 422 and "Enter an amount as a number, for example 5.50." in r.get_data(as_text=True)
    assert not fake_stripe.requests_to("POST", "/v1/checkout/sessions")


def test_give_once_is_a_tab_of_the_same_page(client, campaign):
    html = page(client, "/join?locale=en")
    assert re.search(r'href="/join\?campaign=members-25k&amp;locale=en&amp;kind=contribution&amp;currency=usd"', html)
    html = page(client, "/join?kind=contribution&locale=en")
    assert re.search(r'data-testid="kind-contribution"\s+aria-current="page"', html)
    assert 'name="kind" value="contribution"' in html and 'name="plan"' not in html
    assert "It does not make you a member." in html
    assert 'data-testid="amount-2500">$25.00</span>' in html  # PLAN_PRESETS contribution=…


def test_gift_form_shows_lengths_with_prices_and_posts_a_gift(client, campaign, fake_stripe, clock):
    html = page(client, "/join?kind=gift&locale=en")
    assert 'data-testid="gift-price-3">$15.00' in html and 'data-testid="gift-price-12">$50.00' in html
    assert "3 months" in html and "12 months" in html
    assert f'min="{clock.now().date().isoformat()}"' in html and 'for="gift-email"' in html
    eur = page(client, "/join?kind=gift&currency=eur&locale=uk")
    assert 'data-testid="gift-price-12">48,00\xa0EUR' in eur and "gift-price-3" not in eur  # only 12 in EUR
    day = (clock.now() + timedelta(days=10)).date().isoformat()
    r = post(client, kind="gift", currency="usd", **{"gift.months": "6", "gift.recipient_email": "friend@example.org",
                                                    "gift.recipient_name": "Oksana", "gift.message": "Вітаю!",
                                                    "gift.deliver_on": day})
    assert r.status_code == 303 and r.headers["Location"] == CHECKOUT_URL
    params = sent(fake_stripe)
    assert params["mode"] == "payment" and params["line_items"] == [{"price": "price_gift6", "quantity": "1"}]
    meta = params["metadata"]
    assert (meta["kind"], meta["gift_months"], meta["gift_recipient_email"], meta["gift_deliver_on"]) == (
        "gift", "6", "friend@example.org", day)
    assert meta["gift_recipient_name"] == "Oksana" and meta["gift_message"] == "Вітаю!"


def test_gift_errors_are_sentences_under_their_fields(client, campaign, fake_stripe, clock):
    late = (clock.now() + timedelta(days=400)).date().isoformat()
    r = post(client, kind="gift", currency="usd", **{"gift.months": "3", "gift.recipient_email": "not-an-address",
                                                    "gift.deliver_on": late})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="gift-email-error"[^>]*>\s*Enter the recipient&#39;s e-mail address', html)
    assert 'value="not-an-address"' in html
    r = post(client, kind="gift", currency="usd", **{"gift.months": "3", "gift.recipient_email": "a@example.org",
                                                    "gift.deliver_on": late, "locale": "uk"})
    assert r.status_code == 422
    assert re.search(r'id="gift-deliver-on-error"[^>]*>\s*Оберіть день від сьогодні', r.get_data(as_text=True))
    assert not fake_stripe.requests_to("POST", "/v1/checkout/sessions")
