"""Reader-chosen amounts and several currencies: settings, the checkout API against the fake Stripe server
(inline recurring prices, minimums with the amount in the reader's format, the reader's currency), zero-decimal
currencies, gift checkouts' shape, and webhooks that know a flexible plan's subscription by its product."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from service.campaigns.models import Campaign
from service.members.models import Member, Subscription
from service.payments import money
from service.payments.models import PlanProduct
from service.payments.settings import parse_prices, settings_from
from tests import factories
from tests.stripe_events import build_event, fixture, invoice, post, subscription

FLEX = "price_monthly_flex"
PRICES = f"monthly={FLEX}:flexible,monthly.eur=price_monthly_eur,monthly.uah=price_monthly_uah,yearly=price_yearly"
GIFTS = "3=price_gift3,12=price_gift12,12.eur=price_gift12_eur"
PRODUCT = "prod_membership_flex"


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES, "GIFT_PRICES": GIFTS, "STRIPE_API_BASE": fake_stripe.url,
            "PLAN_MINIMUMS": "usd=500,eur=500,uah=20000,jpy=500,kwd=1000"}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now())
    session.commit()
    return c


@pytest.fixture
def stripe(fake_stripe):
    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_test_a1", mode=req.params["mode"], url="https://checkout.stripe.com/c/pay/cs_test_a1")
        return 200, obj

    def price(req):
        obj = fixture("price")
        obj.update(id=req.match.group(1), product=PRODUCT, type="recurring",
                   recurring={"interval": "month", "interval_count": 1, "usage_type": "licensed"})
        return 200, obj

    fake_stripe.route("POST", r"/v1/checkout/sessions", created)
    fake_stripe.route("GET", r"/v1/prices/([^/]+)", price)
    return fake_stripe


BODY = {"campaign": "members-25k", "plan": "monthly", "success_url": "https://news.example/thanks",
        "cancel_url": "https://news.example/join"}


def start(client, **fields):
    return client.post("/v1/checkout/sessions", json={**BODY, **fields})


def sent(stripe):
    return stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params


# --- settings ---------------------------------------------------------------------------------------------

def test_prices_per_currency_and_flexible_marker():
    s = settings_from({"STRIPE_PRICES": PRICES, "PLAN_CURRENCY": "usd", "GIFT_PRICES": GIFTS,
                       "PLAN_PRESETS": "monthly=500/1000/2500"})
    assert s.prices == {FLEX: "monthly", "price_monthly_eur": "monthly", "price_monthly_uah": "monthly",
                        "price_yearly": "yearly"}  # every price id maps to its plan for webhooks
    assert s.plans == {"monthly": FLEX, "yearly": "price_yearly"}
    assert s.flexible == {"monthly"}
    assert s.currencies("monthly") == ["eur", "gbp", "uah", "usd"]  # prices, and the minimums' currencies
    assert s.currencies("yearly") == ["usd"]
    assert s.amounts("monthly", "usd") == (500, 1000, 2500) and s.amounts("monthly", "eur") == (500, 1000, 2500)
    assert s.gift_prices == {3: {"usd": "price_gift3"}, 12: {"usd": "price_gift12", "eur": "price_gift12_eur"}}
    assert parse_prices("monthly=price_1,monthly.eur=price_2") == {"price_1": "monthly", "price_2": "monthly"}
    for bad in ("monthly=price_1:cheap", "monthly.xx=price_1", "monthly.euro=price_1", "=price_1"):
        with pytest.raises(ValueError, match="STRIPE_PRICES"):
            settings_from({"STRIPE_PRICES": bad})
    with pytest.raises(ValueError, match="PLAN_MINIMUMS"):
        settings_from({"PLAN_MINIMUMS": "usd=five"})


def test_minor_units_and_display():
    assert money.exponent("usd") == 2 and money.exponent("JPY") == 0 and money.exponent("kwd") == 3
    assert money.format_amount(500, "usd", "en") == "$5.00"
    assert money.format_amount(500, "jpy", "ja") == "￥500"  # zero-decimal: 500 is ¥500, not ¥5
    assert money.format_amount(20000, "uah", "uk") == "200,00\xa0₴"
    assert money.format_amount(1000, "eur", "de") == "10,00\xa0€"
    assert money.amount_error(1005, "kwd") and money.amount_error(1000, "kwd") is None


@pytest.mark.parametrize("locale,country,expected", [
    ("uk", None, "uah"), ("de", None, "eur"), ("de-AT", None, "eur"), ("en", None, "usd"), ("fr-CH", None, "usd"),
    (None, "UA", "uah"), ("en", "DE", "eur"), (None, None, "usd"), ("xx-nonsense", "??", "usd"),
])
def test_reader_currency_follows_country_then_locale(locale, country, expected):
    assert money.reader_currency({"usd", "eur", "uah"}, "usd", country=country, locale=locale) == expected


# --- the checkout API ---------------------------------------------------------------------------------------

def test_flexible_amount_is_an_inline_recurring_price_on_the_plans_product(client, session, campaign, stripe):
    r = start(client, amount=1500, currency="usd")
    assert r.status_code == 201, r.get_json()
    assert sent(stripe)["line_items"] == [{"price_data": {
        "currency": "usd", "product": PRODUCT, "unit_amount": "1500",
        "recurring": {"interval": "month", "interval_count": "1"}}, "quantity": "1"}]
    assert sent(stripe)["mode"] == "subscription" and sent(stripe)["metadata"]["amount"] == "1500"
    assert [(p.product_id, p.interval, p.plan, p.price_id) for p in session.scalars(select(PlanProduct))] == [
        (PRODUCT, "month", "monthly", FLEX)]
    assert start(client, amount=2000, currency="uah", locale="uk").status_code == 422  # 200 ₴ minimum
    assert start(client, amount=25000, currency="uah").status_code == 201
    assert len(stripe.requests_to("GET", f"/v1/prices/{FLEX}")) == 1  # read once, then kept
    assert len(stripe.requests_to("GET", "/v1/prices/price_monthly_uah")) == 1


@pytest.mark.parametrize("fields,shown", [
    ({"amount": 499, "currency": "usd"}, "$5.00"),
    ({"amount": 100, "currency": "uah", "locale": "uk"}, "200,00\xa0₴"),
    ({"amount": 499, "currency": "eur", "locale": "de"}, "5,00\xa0€"),
    ({"amount": 400, "currency": "jpy", "locale": "ja"}, "￥500"),
])
def test_below_the_minimum_is_422_naming_it_in_the_readers_format(client, campaign, stripe, fields, shown):
    r = start(client, **fields)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert shown in r.get_json()["detail"] and "amount" in r.get_json()["errors"]
    assert stripe.requests_to("POST", "/v1/checkout/sessions") == []


def test_zero_decimal_amount_goes_to_stripe_as_is(client, campaign, stripe):
    assert start(client, amount=500, currency="jpy").status_code == 201
    assert sent(stripe)["line_items"][0]["price_data"]["unit_amount"] == "500"  # ¥500
    assert start(client, amount=1005, currency="kwd").status_code == 422  # three decimals: tens only


@pytest.mark.parametrize("fields,field", [
    ({"plan": "yearly", "amount": 5000}, "amount"),  # a fixed plan takes no amount
    ({"currency": "chf"}, "currency"),  # not on sale
    ({"plan": "yearly", "currency": "eur"}, "currency"),
    ({"currency": "jpy"}, "amount"),  # flexible in jpy (a minimum) but no set price: needs an amount
    ({"plan": None}, "plan"),
])
def test_what_cannot_be_sold_is_422(client, campaign, stripe, fields, field):
    r = client.post("/v1/checkout/sessions", json={k: v for k, v in {**BODY, **fields}.items() if v is not None})
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert field in errors.get("json", errors)


@pytest.mark.parametrize("fields,price", [
    ({"currency": "eur"}, "price_monthly_eur"),
    ({"locale": "uk"}, "price_monthly_uah"),  # no currency: the reader's
    ({"locale": "de-AT"}, "price_monthly_eur"),
    ({"country": "UA", "locale": "en"}, "price_monthly_uah"),  # the country first
    ({"locale": "ja"}, FLEX),  # jpy has a minimum but no set price: the default currency's price
    ({}, FLEX),
])
def test_set_prices_in_the_requested_or_the_readers_currency(client, campaign, stripe, fields, price):
    assert start(client, **fields).status_code == 201
    assert sent(stripe)["line_items"] == [{"price": price, "quantity": "1"}]


def test_gift_checkout_is_payment_mode_with_the_gift_in_metadata(client, session, campaign, stripe):
    gift = {"months": 12, "recipient_email": "friend@example.org", "recipient_name": "Olena",
            "message": "For you", "deliver_on": "2025-06-20"}
    r = start(client, kind="gift", plan=None, gift=gift, locale="de")
    assert r.status_code == 201, r.get_json()
    params = sent(stripe)
    metadata = {"campaign": "members-25k", "kind": "gift", "gift_months": "12", "locale": "de",
                "gift_recipient_email": "friend@example.org", "gift_deliver_on": "2025-06-20",
                "gift_recipient_name": "Olena", "gift_message": "For you"}
    assert params["mode"] == "payment" and params["metadata"] == metadata
    assert params["payment_intent_data"] == {"metadata": metadata}
    assert params["line_items"] == [{"price": "price_gift12_eur", "quantity": "1"}]
    r = start(client, kind="gift", gift={"months": 3, "recipient_email": "friend@example.org"})
    assert r.status_code == 201
    assert sent(stripe)["metadata"]["gift_deliver_on"] == date(2025, 6, 1).isoformat()  # default: today


@pytest.mark.parametrize("fields", [
    {"kind": "gift"},  # no gift
    {"kind": "gift", "gift": {"months": 4, "recipient_email": "f@example.org"}},
    {"kind": "gift", "gift": {"months": 6, "recipient_email": "f@example.org"}},  # not on sale
    {"kind": "gift", "gift": {"months": 3, "recipient_email": "not-an-address"}},
    {"kind": "gift", "gift": {"months": 3, "recipient_email": "f@example.org", "deliver_on": "2025-05-31"}},
    {"kind": "gift", "gift": {"months": 3, "recipient_email": "f@example.org", "deliver_on": "2026-08-01"}},
    {"kind": "gift", "amount": 5000, "gift": {"months": 3, "recipient_email": "f@example.org"}},
    {"kind": "membership", "gift": {"months": 3, "recipient_email": "f@example.org"}},
    {"kind": "lifetime"},
])
def test_bad_gifts_are_422(client, campaign, stripe, fields):
    r = start(client, **fields)
    assert r.status_code == 422, r.get_json()
    assert stripe.requests_to("POST", "/v1/checkout/sessions") == []


# --- webhooks of a reader-chosen amount ---------------------------------------------------------------------

def flexible_subscription(status="active"):
    obj = subscription("sub_flex1", "cus_flex1", "price_inline_abc", created=datetime(2025, 3, 1, tzinfo=UTC),
                       status=status, metadata={"campaign": "members-25k", "plan": "monthly"})
    obj["items"]["data"][0]["price"].update(product=PRODUCT, unit_amount=1500)
    return obj


def test_a_flexible_subscription_is_a_membership_in_either_order(client, session, campaign, stripe):
    assert start(client, amount=1500, currency="usd").status_code == 201  # learns the plan's product
    t = datetime(2025, 3, 1, tzinfo=UTC)
    inv = invoice("in_flex1", "cus_flex1", "sub_flex1", "price_inline_abc", created=t, email="flex@example.org",
                  billing_reason="subscription_create")
    for line in inv["lines"]["data"]:
        line["pricing"]["price_details"]["product"] = PRODUCT
    paid = build_event("invoice.paid", inv, created=t, id="evt_flex_paid")
    created = build_event("customer.subscription.created", flexible_subscription(), created=t, id="evt_flex_created")
    for ev in (paid, created):  # the invoice first: known by its product too
        assert post(client, ev).status_code == 200
    session.expire_all()
    sub = session.scalar(select(Subscription))
    assert (sub.plan, sub.price_id) == ("monthly", "price_inline_abc")
    assert session.scalar(select(Member)).first_paid_at is not None
    assert session.scalar(select(Campaign)).count == 1


def test_another_product_is_still_not_a_membership(client, session, campaign, stripe):
    start(client, amount=1500, currency="usd")
    obj = flexible_subscription()
    obj["items"]["data"][0]["price"].update(product="prod_print_edition")
    t = datetime(2025, 3, 1, tzinfo=UTC)
    assert post(client, build_event("customer.subscription.created", obj, created=t)).json["outcome"] == "ignored"
    assert session.scalar(select(Member)) is None
