"""What a checkout sells, per kind: the Checkout mode, line items, currency and the kind's metadata (no Flask).

- `membership`: a plan of STRIPE_PRICES in the requested currency (else the reader's, see money.py), at its
  configured price, or, for a flexible plan, at a reader-chosen `amount` of at least PLAN_MINIMUMS: an inline
  recurring price on the product and interval of the plan's price (read from Stripe once and kept in
  `plan_products`, which is also how webhooks know the plan of such a subscription).
- `contribution`: a one-time payment of a reader-chosen amount (at least the minimum) in a currency of
  PLAN_MINIMUMS.
- `gift`: a one-time GIFT_PRICES price for 3, 6 or 12 months, with the recipient and delivery day in metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.errors import Invalid, UpstreamError
from service.payments import money
from service.payments.models import PlanProduct
from service.payments.settings import PaymentSettings

log = logging.getLogger(__name__)

KINDS = ("membership", "contribution", "gift")
GIFT_MONTHS = (3, 6, 12)
GIFT_DELIVERY_DAYS = 366  # how far ahead a gift's delivery can be scheduled


@dataclass
class Priced:
    mode: str  # subscription | payment
    line_items: list[dict[str, Any]]
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)  # the kind's own keys


def stripe_call(fn: Callable[[], Any], what: str) -> Any:
    """A Stripe request; its failure as a 502 naming Stripe's request id."""
    try:
        return fn()
    except stripe.StripeError as exc:
        request_id = getattr(exc, "request_id", None) or ""
        message = getattr(exc, "user_message", None) or "Stripe refused the request"
        log.warning("stripe %s failed: %s (request %s)", what, type(exc).__name__, request_id)
        raise UpstreamError(f"Stripe could not {what}: {message} (Stripe request id: "
                            f"{request_id or 'unknown'}).", stripe_request_id=request_id) from exc


def choose_currency(offered: list[str], requested: str | None, settings: PaymentSettings, *, what: str,
                    country: str | None, locale: str | None) -> str:
    """The requested currency (422 unless offered), else the reader's (money.reader_currency)."""
    if not offered:
        raise Invalid(f"{what} is not on sale in any currency.")
    if requested:
        code = requested.strip().lower()
        if code not in offered:
            raise Invalid(f"{what} is not sold in '{requested[:8]}' (currencies: {', '.join(offered)}).",
                          errors={"currency": ["Not offered."]})
        return code
    default = settings.currency if settings.currency in offered else offered[0]
    return money.reader_currency(offered, default, country=country, locale=locale)


def check_amount(amount: int, currency: str, settings: PaymentSettings, locale: str | None) -> None:
    """422 below the currency's minimum (named in the reader's format) or above what Stripe takes."""
    low = settings.minimums.get(currency)
    if low is None:
        raise Invalid(f"No minimum amount is set for {currency.upper()} (PLAN_MINIMUMS).",
                      errors={"currency": ["Not offered."]})
    if amount < low:
        shown = money.format_amount(low, currency, locale)
        raise Invalid(f"The amount must be at least {shown} ({low} in minor units of {currency.upper()}).",
                      errors={"amount": [f"At least {shown}."]}, minimum=low, currency=currency)
    problem = money.amount_error(amount, currency)
    if problem:
        raise Invalid(f"The amount must be {problem}.", errors={"amount": [problem.capitalize() + "."]})


def membership(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *, plan: str,
               amount: int | None, currency: str | None, country: str | None, locale: str | None,
               now: datetime) -> Priced:
    prices = settings.plan_prices.get(plan)
    if prices is None:
        known = ", ".join(sorted(settings.plan_prices)) or "none configured"
        raise Invalid(f"Unknown plan '{plan[:64]}' (plans: {known}).", errors={"plan": ["Unknown plan."]})
    # Without an amount, a reader's currency is one with a set price (a flexible plan's others need an amount).
    offered = settings.currencies(plan) if amount is not None or currency else sorted(prices)
    code = choose_currency(offered, currency, settings, what=f"Plan '{plan}'", country=country, locale=locale)
    if amount is None:
        if code not in prices:
            raise Invalid(f"Plan '{plan}' has no set price in {code.upper()}: choose an amount.",
                          errors={"amount": ["Required in this currency."]})
        return Priced("subscription", [{"price": prices[code], "quantity": 1}], code)
    if plan not in settings.flexible:
        raise Invalid(f"Plan '{plan}' has a fixed price; only flexible plans take an amount.",
                      errors={"amount": ["Not for this plan."]})
    check_amount(amount, code, settings, locale)
    base = prices.get(code) or settings.plans[plan]
    product = plan_product(session, client, plan, base, now)
    return Priced("subscription", [{"price_data": {
        "currency": code, "product": product.product_id, "unit_amount": amount,
        "recurring": {"interval": product.interval, "interval_count": product.interval_count}},
        "quantity": 1}], code, {"amount": str(amount)})


def plan_product(session: Session, client: stripe.StripeClient, plan: str, price_id: str,
                 now: datetime) -> PlanProduct:
    """The product and interval of a plan's price: stored, else read from Stripe once and stored."""
    found = session.scalar(select(PlanProduct).where(PlanProduct.price_id == price_id, PlanProduct.plan == plan))
    if found is not None:
        return found
    price = stripe_call(lambda: client.v1.prices.retrieve(price_id), "read the plan's price").to_dict()
    recurring = price.get("recurring") or {}
    product = price.get("product")
    product_id = str(product.get("id") if isinstance(product, dict) else product or "")
    if not product_id or not recurring.get("interval"):
        raise Invalid(f"Plan '{plan}' is flexible but its price {price_id} is not a recurring price of a product.")
    values = {"product_id": product_id, "interval": str(recurring["interval"])[:16],
              "interval_count": int(recurring.get("interval_count") or 1), "plan": plan, "price_id": price_id,
              "created_at": now}
    maker = pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    stmt = maker(PlanProduct.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["product_id", "interval", "interval_count"],
                                               set_={"plan": plan, "price_id": price_id}))
    return session.scalar(select(PlanProduct).where(PlanProduct.price_id == price_id, PlanProduct.plan == plan))


def flexible_plan(session: Session, products: list[tuple[str, str, str, int]]) -> tuple[str, str] | None:
    """(plan, price id) of an item priced inline for a flexible plan: its product and interval (any interval
    when the object names none, as invoice lines) were stored by `plan_product` when its Checkout started."""
    for price_id, product, interval, count in products:
        query = select(PlanProduct.plan).where(PlanProduct.product_id == product)
        if interval:
            query = query.where(PlanProduct.interval == interval, PlanProduct.interval_count == count)
        plan = session.scalar(query.order_by(PlanProduct.id).limit(1))
        if plan:
            return plan, price_id
    return None


def contribution(settings: PaymentSettings, *, amount: int | None, currency: str | None, country: str | None,
                 locale: str | None, title: str) -> Priced:
    if amount is None:
        raise Invalid("A contribution needs an amount (minor units).", errors={"amount": ["Required."]})
    code = choose_currency(sorted(settings.minimums), currency, settings, what="A contribution",
                           country=country, locale=locale)
    check_amount(amount, code, settings, locale)
    item = {"price_data": {"currency": code, "unit_amount": amount,
                           "product_data": {"name": f"One-time contribution: {title}"[:250]}}, "quantity": 1}
    return Priced("payment", [item], code, {"kind": "contribution", "amount": str(amount)})


def gift(settings: PaymentSettings, *, details: dict[str, Any] | None, amount: int | None, currency: str | None,
         country: str | None, locale: str | None, today: date) -> Priced:
    if not details:
        raise Invalid("A gift needs `gift`: months, recipient_email.", errors={"gift": ["Required."]})
    if amount is not None:
        raise Invalid("Gift memberships have set prices; leave out `amount`.", errors={"amount": ["Not for gifts."]})
    months = int(details["months"])
    prices = settings.gift_prices.get(months)
    if not prices:
        on_sale = ", ".join(str(m) for m in sorted(settings.gift_prices)) or "none (GIFT_PRICES is empty)"
        raise Invalid(f"No gift of {months} months is on sale (months on sale: {on_sale}).",
                      errors={"gift": {"months": ["Not on sale."]}})
    code = choose_currency(sorted(prices), currency, settings, what=f"A {months}-month gift", country=country,
                           locale=locale)
    deliver_on = details.get("deliver_on") or today
    if not today <= deliver_on <= today + timedelta(days=GIFT_DELIVERY_DAYS):
        raise Invalid(f"deliver_on must be from today ({today.isoformat()}) to {GIFT_DELIVERY_DAYS} days ahead.",
                      errors={"gift": {"deliver_on": ["Out of range."]}})
    metadata = {"kind": "gift", "gift_months": str(months), "gift_recipient_email": details["recipient_email"],
                "gift_deliver_on": deliver_on.isoformat()}
    for key in ("recipient_name", "message"):
        if details.get(key):
            metadata[f"gift_{key}"] = str(details[key])[:500]
    return Priced("payment", [{"price": prices[code], "quantity": 1}], code, metadata)


def priced_for(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *, kind: str,
               plan: str | None, amount: int | None, currency: str | None, country: str | None,
               locale: str | None, gift_details: dict[str, Any] | None, title: str, now: datetime) -> Priced:
    """What a checkout of this kind sells (422 with the reason when it cannot be sold)."""
    if kind == "contribution":
        return contribution(settings, amount=amount, currency=currency, country=country, locale=locale, title=title)
    if kind == "gift":
        return gift(settings, details=gift_details, amount=amount, currency=currency, country=country,
                    locale=locale, today=now.date())
    if not plan:
        raise Invalid("A membership checkout needs a plan.", errors={"plan": ["Required for a membership."]})
    return membership(session, client, settings, plan=plan, amount=amount, currency=currency, country=country,
                      locale=locale, now=now)


def session_params(priced: Priced, metadata: dict[str, str]) -> dict[str, Any]:
    """Mode, line items and metadata of the Checkout Session: on the subscription it creates, or on the
    one-time payment's intent (so `payment_intent.succeeded` and refunds carry it too)."""
    out: dict[str, Any] = {"mode": priced.mode, "line_items": priced.line_items, "metadata": metadata}
    if priced.mode == "subscription":
        out["subscription_data"] = {"metadata": metadata}
    else:
        out["payment_intent_data"] = {"metadata": metadata}
        out["customer_creation"] = "always"  # a customer per payer: contributors counted as people
        if metadata.get("kind") == "contribution":
            out["submit_type"] = "donate"
    return out
