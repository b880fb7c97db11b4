"""The join page's ways to support (no Flask): join at a chosen amount, give once (`kind=contribution`) or give
a gift (`kind=gift`), each in a currency the choice is sold in.

Rules, the checkout API's own (payments/pricing.py, payments/settings.py):
- currencies on offer: a membership plan's (its prices, and for a flexible plan every currency with a minimum),
  a contribution's (PLAN_MINIMUMS), a gift's (GIFT_PRICES); the page's currency is the requested one when on
  offer, else the reader's as the API chooses it (`pricing.choose_currency`: country, else locale, else
  PLAN_CURRENCY);
- preset amounts: `PaymentSettings.amounts` (PLAN_PRESETS, `contribution=…` for giving once; else 1, 2 and 5
  times the minimum), shown with Babel in the reader's locale;
- a typed amount is read in major units ('7.50' or '7,50'; whole numbers in zero-decimal currencies) and sent in
  minor units; a filled custom field wins over the preset radio (join.js clears it when a preset is chosen).
The form's fields become the API's body in `api_body` (and in join.js, for the page with JavaScript).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from babel.numbers import get_currency_name
from babel.units import format_unit

from service.errors import Invalid
from service.join import texts
from service.join.page import PlanChoice
from service.join.plans import Plan
from service.join.support_texts import has, say
from service.payments import money, pricing
from service.payments.schemas import CheckoutRequestSchema
from service.payments.settings import PaymentSettings

KINDS = pricing.KINDS
GIFT_FIELDS = ("months", "recipient_email", "recipient_name", "message", "deliver_on")
NUMBER = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class AmountChoice:
    value: int  # minor units
    label: str


@dataclass(frozen=True)
class GiftChoice:
    months: int
    label: str
    price: str


@dataclass
class Support:
    kind: str
    currency: str
    currencies: list[tuple[str, str]]  # (code, label)
    asks_amount: bool  # a flexible plan or a contribution
    lang: str = "en"
    amounts: list[AmountChoice] = field(default_factory=list)
    chosen: str = ""  # a preset's value, or "custom"
    custom: str = ""  # the typed amount, as typed
    minimum: str = ""  # formatted
    example: str = ""  # formatted like the reader would type it
    exponent: int = 2
    gifts: list[GiftChoice] = field(default_factory=list)
    gift: dict[str, str] = field(default_factory=dict)  # the gift fields as typed
    errors: dict[str, str] = field(default_factory=dict)  # field -> sentence
    first_day: str = ""  # a gift's delivery day range (YYYY-MM-DD)
    last_day: str = ""

    def error_for(self, name: str) -> str:
        return self.errors.get(name, "")


def kind_of(value: str | None) -> str:
    return value if value in KINDS else "membership"


def offered(settings: PaymentSettings, kind: str, plan: str | None) -> list[str]:
    if kind == "contribution":
        return sorted(settings.minimums)
    if kind == "gift":
        return sorted({c for by in settings.gift_prices.values() for c in by})
    return settings.currencies(plan) if plan else []


def page_currency(settings: PaymentSettings, codes: list[str], requested: str | None, country: str | None,
                  locale: str | None) -> str:
    """The requested currency when on offer, else the one the API would choose for this reader."""
    code = (requested or "").strip().lower()
    if code in codes:
        return code
    if not codes:
        return ""
    return pricing.choose_currency(codes, None, settings, what="", country=country, locale=locale)


def currency_label(code: str, lang: str) -> str:
    return f"{code.upper()} · {get_currency_name(code.upper(), locale=money.babel_locale_or_en(lang))}"


def example(currency: str, lang: str, minimum: int | None) -> str:
    """How a reader would type an amount: '7.50' / '7,50' / '700'."""
    exp = money.exponent(currency)
    major = money.to_major((minimum or 5 * 10 ** exp) + (10 ** exp if exp == 0 else 10 ** exp // 2), currency)
    text = f"{major:.{exp}f}"
    return text.replace(".", ",") if lang == "uk" else text


def parse_amount(text: str, currency: str) -> int | None:
    """Minor units of a typed amount ('7.50', '7,50', '1 000'), None when it is not an amount of this currency
    (not a number, or more decimals than its minor unit has)."""
    clean = re.sub(r"[\s\u00a0\u202f']", "", text or "")
    if "," in clean and "." in clean:  # the last one is the decimal separator
        sep = "," if clean.rfind(",") > clean.rfind(".") else "."
        clean = clean.replace("." if sep == "," else ",", "")
    clean = clean.replace(",", ".")
    if not NUMBER.match(clean):
        return None
    try:
        minor = Decimal(clean).scaleb(money.exponent(currency))
    except InvalidOperation:
        return None
    return int(minor) if minor == minor.to_integral_value() and minor > 0 else None


def gift_choices(settings: PaymentSettings, prices: dict[str, Plan], currency: str, lang: str) -> list[GiftChoice]:
    """The gift lengths sold in this currency, with their price (from Stripe) in the reader's format."""
    out = []
    for months in sorted(settings.gift_prices):
        if currency not in settings.gift_prices[months]:
            continue
        price = prices.get(gift_key(months, currency))
        shown = money.format_amount(price.amount, currency, lang) if price and price.amount is not None else ""
        span = format_unit(months, "duration-month", locale=money.babel_locale_or_en(lang), length="long")
        out.append(GiftChoice(months, span, shown))
    return out


def gift_key(months: int, currency: str) -> str:
    return f"gift.{months}.{currency}"


def extra_prices(settings: PaymentSettings) -> dict[str, str]:
    """Prices the page shows besides the plans' default ones (name -> price id): each plan in its other
    currencies ('monthly.eur') and each gift ('gift.12.eur')."""
    shown = set(settings.plans.values())
    out = {f"{plan}.{cur}": price for plan, by in settings.plan_prices.items() for cur, price in by.items()
           if price not in shown}
    out.update({gift_key(m, cur): price for m, by in settings.gift_prices.items() for cur, price in by.items()})
    return out


def build(settings: PaymentSettings, args: Any, *, plan: str | None, lang: str, prices: dict[str, Plan],
          today: date, locale: str | None = None) -> Support:
    """What the page offers for the requested kind, plan and currency, with the reader's typed values kept."""
    kind = kind_of(args.get("kind"))
    codes = offered(settings, kind, plan)
    currency = page_currency(settings, codes, args.get("currency"), args.get("country"), locale or lang)
    asks = kind == "contribution" or (kind == "membership" and plan in settings.flexible)
    s = Support(kind, currency, [(c, currency_label(c, lang)) for c in codes], asks, lang)
    if not currency:
        return s
    s.exponent = money.exponent(currency)
    if asks:
        low = settings.minimums.get(currency)
        s.amounts = [AmountChoice(a, money.format_amount(a, currency, lang))
                     for a in settings.amounts(plan if kind == "membership" else "contribution", currency)]
        s.minimum = money.format_amount(low, currency, lang) if low else ""
        s.example = example(currency, lang, low)
        s.custom = (args.get("amount_custom") or "")[:20]
        requested = str(args.get("amount") or "")
        values = [str(a.value) for a in s.amounts]
        s.chosen = "custom" if s.custom or requested == "custom" else (
            requested if requested in values else (values[1] if len(values) > 2 else values[0] if values else ""))
    if kind == "gift":
        s.gifts = gift_choices(settings, prices, currency, lang)
        s.gift = {name: (args.get(f"gift.{name}") or "")[:500] for name in GIFT_FIELDS}
        s.first_day = today.isoformat()
        s.last_day = (today + timedelta(days=pricing.GIFT_DELIVERY_DAYS)).isoformat()
        if s.gift["months"] not in [str(g.months) for g in s.gifts] and s.gifts:
            s.gift["months"] = str(s.gifts[-1].months if len(s.gifts) < 3 else s.gifts[1].months)
    return s


def kind_query(base: str, kind: str, currency: str) -> str:
    """The page's query for one of the ways to support (the currency kept when that kind sells it)."""
    extra = {"kind": kind} if kind != "membership" else {}
    if currency:
        extra["currency"] = currency
    return "&".join(q for q in (base, urlencode(extra)) if q)


def plans_in(choices: list[PlanChoice], settings: PaymentSettings, prices: dict[str, Plan], currency: str,
             lang: str) -> list[PlanChoice]:
    """The plans with their price in the page's currency: a set price in it, else 'from' the minimum for a
    flexible plan, else the plan's own price."""
    out = []
    for c in choices:
        base = c.plan
        own = base if base.currency.lower() == currency else prices.get(f"{c.name}.{currency}")
        low = settings.minimums.get(currency)
        if own is not None and own.amount is not None:
            shown = texts.price_text(replace(base, amount=own.amount, currency=currency.upper()), lang)
        elif c.name in settings.flexible and low and base.interval:
            shown = say(lang, "from_price", price=texts.price_text(
                replace(base, amount=low, currency=currency.upper()), lang))
        else:
            shown = c.price
        out.append(replace(c, price=shown))
    return out


def api_body(s: Support, form: Any, plan: str | None) -> dict[str, Any]:
    """The checkout API's body for the posted form (amount in minor units, the gift as an object); a typed amount
    that is not a number is reported as the field's error (`s.errors`), not sent."""
    body: dict[str, Any] = {"kind": s.kind, "currency": s.currency or None}
    if s.kind == "membership":
        body["plan"] = plan
    if s.asks_amount:
        if s.chosen == "custom":
            amount = parse_amount(s.custom, s.currency)
            if amount is None:
                s.errors["amount"] = (say(s.lang, "err_amount", example=s.example) if s.custom
                                      else say(s.lang, "err_amount_required"))
            body["amount"] = amount
        elif s.chosen:
            body["amount"] = int(s.chosen)
    if s.kind == "gift":
        gift = {k: v.strip() for k, v in s.gift.items() if v.strip()}
        if "months" in gift:
            gift["months"] = int(gift["months"]) if gift["months"].isdigit() else gift["months"]
        body["gift"] = gift
    return {k: v for k, v in body.items() if v is not None}


def checkout_args(s: Support, form: Any, plan: str | None, *, campaign: str, locale: str,
                  article_id: str | None, links: dict[str, str]) -> dict[str, Any]:
    """The posted form as the checkout API's arguments, checked by the API's own schema (422 naming the fields)."""
    body = {**api_body(s, form, plan), "campaign": campaign, "locale": locale, **links}
    if article_id:
        body["article_id"] = article_id
    if s.errors:
        raise Invalid("The form has a field to correct.", errors={k: ["Invalid."] for k in s.errors})
    try:
        return CheckoutRequestSchema().load(body)
    except ma.ValidationError as exc:
        raise Invalid("The form has a field to correct.", errors=exc.messages) from exc


def flat_errors(errors: Any, prefix: str = "") -> list[str]:
    """{'gift': {'recipient_email': [...]}, 'amount': [...]} -> ['gift.recipient_email', 'amount']"""
    if not isinstance(errors, dict):
        return [prefix] if prefix else []
    out = []
    for key, value in errors.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        out += flat_errors(value, name) if isinstance(value, dict) else [name]
    return out


def field_errors(s: Support, lang: str, errors: Any, extra: dict[str, Any]) -> dict[str, str]:
    """A sentence per field the API named, in the reader's language (the minimum in their format)."""
    out: dict[str, str] = {}
    for name in flat_errors(errors):
        name = name.removeprefix("json.")
        if name == "amount" and extra.get("minimum") is not None and extra.get("currency"):
            out[name] = say(lang, "err_amount_minimum", currency=str(extra["currency"]).upper(),
                            minimum=money.format_amount(int(extra["minimum"]), str(extra["currency"]), lang))
        elif name == "amount":
            out[name] = say(lang, "err_amount", example=s.example)
        elif has(f"err_{name}"):
            out[name] = say(lang, f"err_{name}")
    return out


def error_sentences(s: Support, lang: str) -> dict[str, str]:
    """Every field's sentence, rendered hidden next to it for join.js to show on the API's 422."""
    names = ["amount", "currency", "plan", *(f"gift.{n}" for n in GIFT_FIELDS)]
    out = {n: say(lang, f"err_{n}", example=s.example) if n == "amount" else say(lang, f"err_{n}") for n in names}
    if s.minimum:
        out["amount_minimum"] = say(lang, "err_amount_minimum", currency=s.currency.upper(), minimum=s.minimum)
    return out
