"""Money: currencies, minor units, minimums, display, and the reader's currency (pure; no Flask).

Amounts are integers in Stripe's minor units with a lower-case ISO 4217 code. Most currencies have two
decimals (500 usd = $5.00); Stripe's zero-decimal currencies have none (500 jpy = ¥500) and its three-decimal
ones three (5000 kwd = 5.000 KD, sent to Stripe rounded to tens). Tables from
https://docs.stripe.com/currencies#zero-decimal and #three-decimal.

The reader's currency, when a checkout names none: the currency of the reader's country (the request's
`country`, else the region of its `locale`, else the region CLDR says the locale's language is most
likely spoken in: uk -> UA -> uah, de -> DE -> eur, en -> US -> usd), when that currency is on offer;
otherwise the default currency (PLAN_CURRENCY). The country -> currency map is CLDR's, through Babel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import format_currency, get_territory_currencies, is_currency

ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
MAX_AMOUNT = 99_999_999  # Stripe's largest amount in minor units (eight digits)
DEFAULT_MINIMUMS = "usd=500,eur=500,gbp=500,uah=20000"


def exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit in Stripe's amounts."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """500 usd -> Decimal('5.00'); 500 jpy -> Decimal('500')."""
    return Decimal(amount).scaleb(-exponent(currency))


def check_currency(code: str) -> str:
    """The lower-case code of a currency Babel knows; ValueError otherwise."""
    value = (code or "").strip().lower()
    if len(value) != 3 or not value.isalpha() or not is_currency(value.upper()):
        raise ValueError(f"'{code[:8]}' is not an ISO 4217 currency code")
    return value


def amount_error(amount: int, currency: str) -> str | None:
    """Why Stripe would refuse this amount in this currency, or None."""
    if amount > MAX_AMOUNT:
        return f"at most {MAX_AMOUNT:,} in minor units"
    if currency.lower() in THREE_DECIMAL and amount % 10:
        return "a multiple of 10 in minor units (Stripe rounds three-decimal currencies to tens)"
    return None


def babel_locale_or_en(locale: str | None) -> Locale:
    try:
        return Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def format_amount(amount: int, currency: str, locale: str | None) -> str:
    """The amount as the reader reads it, e.g. 500 usd in en -> '$5.00', 20000 uah in uk -> '200,00 ₴',
    500 jpy in ja -> '￥500'."""
    return format_currency(to_major(amount, currency), currency.upper(), locale=babel_locale_or_en(locale))


def parse_minimums(value: str) -> dict[str, int]:
    """'usd=500,eur=500' -> {'usd': 500, 'eur': 500} (minor units); ValueError names a bad entry."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in (value or "").split(",")):
        if not part:
            continue
        code, sep, amount = part.partition("=")
        if not sep or not amount.strip().isdigit():
            raise ValueError(f"PLAN_MINIMUMS entry {part!r} is not currency=amount (minor units)")
        out[check_currency(code)] = int(amount)
    return out


@lru_cache(maxsize=512)
def country_of(locale: str | None) -> str | None:
    """The region of a locale tag (de-AT -> AT), else its language's likely region per CLDR (uk -> UA)."""
    if not locale:
        return None
    try:
        loc = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if loc.territory:
        return loc.territory
    likely = get_global("likely_subtags").get(loc.language, "")
    parts = likely.split("_")
    return next((p for p in parts[1:] if len(p) == 2 and p.isalpha() and p.isupper()), None)


def country_currency(country: str | None, on: date | None = None) -> str | None:
    """The currency in use in a country (ISO 3166 alpha-2), lower-case, per CLDR."""
    if not country or len(country) != 2 or not country.isalpha():
        return None
    try:
        found = get_territory_currencies(country.upper(), start_date=on, tender=True)
    except Exception:  # noqa: BLE001 - Babel raises for unknown territories in some versions
        return None
    return found[0].lower() if found else None


def reader_currency(offered: Iterable[str], default: str, *, country: str | None = None,
                    locale: str | None = None) -> str:
    """The currency to charge a reader who named none (see the module docstring)."""
    offered = set(offered)
    for candidate in (country_currency(country), country_currency(country_of(locale))):
        if candidate and candidate in offered:
            return candidate
    return default
