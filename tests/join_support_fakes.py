"""The fake Stripe side of the join page's ways to support: a flexible monthly plan priced in USD and EUR, a
yearly plan in EUR, gifts of 3, 6 and 12 months, and Checkout Sessions that echo their mode."""

from __future__ import annotations

from tests.join_support import CHECKOUT_URL, price
from tests.stripe_events import fixture

PRICES = "monthly=price_monthly_test:flexible,monthly.eur=price_monthly_eur,yearly=price_yearly_test"
GIFTS = "3=price_gift3,6=price_gift6,12=price_gift12,12.eur=price_gift12_eur"
MINIMUMS = "usd=500,eur=500,uah=20000,jpy=500"
PRESETS = "monthly=500/1000/2500,contribution=1000/2500/5000,contribution.jpy=1000/3000/10000"
PRODUCT = "prod_membership"

AMOUNTS = {  # price id -> (amount, currency, interval)
    "price_monthly_test": (500, "usd", "month"), "price_monthly_eur": (600, "eur", "month"),
    "price_yearly_test": (5000, "eur", "year"), "price_gift3": (1500, "usd", ""), "price_gift6": (2800, "usd", ""),
    "price_gift12": (5000, "usd", ""), "price_gift12_eur": (4800, "eur", ""),
}


def config(fake) -> dict:
    return {"STRIPE_PRICES": PRICES, "GIFT_PRICES": GIFTS, "PLAN_MINIMUMS": MINIMUMS, "PLAN_PRESETS": PRESETS,
            "STRIPE_API_BASE": fake.url}


def serve(fake, url: str = CHECKOUT_URL) -> None:
    def one_price(req):
        amount, currency, interval = AMOUNTS[req.match.group(1)]
        obj = price(req.match.group(1), amount, currency, interval or "month")
        obj["product"] = PRODUCT
        if not interval:
            obj.update(type="one_time", recurring=None)
        return 200, obj

    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_join_1", mode=req.params["mode"], url=url, metadata=req.params.get("metadata", {}))
        return 200, obj

    fake.route("GET", r"/v1/prices/([^/]+)", one_price)
    fake.route("POST", r"/v1/checkout/sessions", created)
