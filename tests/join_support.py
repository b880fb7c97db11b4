"""The fake Stripe side of the join page: prices, a created Checkout Session and a paid one to claim."""

from __future__ import annotations

from datetime import timedelta

from tests.stripe_events import MONTHLY_PRICE, YEARLY_PRICE, checkout_session, fixture, subscription

CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_join_1"


def price(price_id: str, amount: int, currency: str, interval: str, count: int = 1) -> dict:
    obj = fixture("price")
    obj.update(id=price_id, unit_amount=amount, unit_amount_decimal=str(amount), currency=currency)
    obj["recurring"] = {**obj["recurring"], "interval": interval, "interval_count": count}
    return obj


def serve_prices(fake) -> None:
    """monthly: $5.00 a month; yearly: €50.00 a year."""
    fake.reply("GET", rf"/v1/prices/{MONTHLY_PRICE}", price(MONTHLY_PRICE, 500, "usd", "month"))
    fake.reply("GET", rf"/v1/prices/{YEARLY_PRICE}", price(YEARLY_PRICE, 5000, "eur", "year"))


def serve_checkout(fake, url: str = CHECKOUT_URL) -> None:
    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_join_1", mode="subscription", url=url, metadata=req.params.get("metadata", {}))
        return 200, obj
    fake.route("POST", r"/v1/checkout/sessions", created)


def serve_paid_session(fake, now, session_id: str = "cs_join_1", email: str = "new.reader@example.org",
                       n: int = 1) -> None:
    """A complete, paid membership checkout (a new customer) that the welcome page can claim."""
    start = now - timedelta(minutes=5)
    sub = subscription(f"sub_J{n}", f"cus_J{n}", MONTHLY_PRICE, created=start)
    cs = checkout_session(session_id, f"cus_J{n}", f"sub_J{n}", email=email, metadata={"plan": "monthly"},
                          created=start)
    fake.reply("GET", rf"/v1/checkout/sessions/{session_id}", {**cs, "subscription": sub})
    fake.reply("GET", rf"/v1/subscriptions/sub_J{n}", sub)
