"""Payments settings, parsed once at app creation: prices and plans, live mode, webhook secrets, return origins.

Several currencies: one Stripe price per plan and currency in STRIPE_PRICES (`monthly=price_1,
monthly.eur=price_2`; an entry without `.currency` is in PLAN_CURRENCY), rather than one price with
`currency_options`: every price id a webhook names then maps to its plan from configuration alone, and
the currencies on sale are known without asking Stripe. A plan marked `:flexible` (`monthly=price_1:flexible`)
also takes a reader-chosen amount (at least PLAN_MINIMUMS in its currency), charged as an inline price on
the product and interval of the plan's price. Gifts are one-time prices per length in months
(GIFT_PRICES `3=price_a,12=price_b,12.eur=price_c`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.config import csv
from service.members import tombstones
from service.payments import money
from service.urls import origin


@dataclass(frozen=True)
class PaymentSettings:
    prices: dict[str, str]  # price id -> plan name
    livemode: bool
    webhook_secrets: tuple[str, ...]
    tolerance: int = 300
    allowed_origins: tuple[str, ...] = ()
    currency: str = "usd"  # PLAN_CURRENCY: of entries without a `.currency` suffix, and the fallback
    plan_prices: dict[str, dict[str, str]] = field(default_factory=dict)  # plan -> currency -> price id
    flexible: frozenset[str] = frozenset()  # plans that take a reader-chosen amount
    minimums: dict[str, int] = field(default_factory=dict)  # currency -> smallest amount (minor units)
    presets: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)  # (plan, currency) -> amounts
    gift_prices: dict[int, dict[str, str]] = field(default_factory=dict)  # months -> currency -> price id
    erasure_key: bytes = b""  # HMAC key of email tombstones, from SECRET_KEY (members/tombstones.py)

    @property
    def plans(self) -> dict[str, str]:
        """plan -> its price in the default currency (else its first price)."""
        return {plan: by.get(self.currency) or next(iter(by.values())) for plan, by in self.plan_prices.items()}

    def currencies(self, plan: str) -> list[str]:
        """Currencies a plan is sold in: its prices', and for a flexible plan every currency with a minimum."""
        found = set(self.plan_prices.get(plan, {}))
        if plan in self.flexible:
            found |= set(self.minimums)
        return sorted(found)

    def amounts(self, plan: str, currency: str) -> tuple[int, ...]:
        """The preset amounts the join page offers for a flexible plan: PLAN_PRESETS, else 1, 2 and 5 times
        the minimum."""
        preset = self.presets.get((plan, currency))
        if preset:
            return preset
        low = self.minimums.get(currency)
        return (low, low * 2, low * 5) if low else ()


def parse_catalogue(value: str, default_currency: str, what: str = "STRIPE_PRICES"
                    ) -> tuple[dict[str, dict[str, str]], frozenset[str]]:
    """'monthly=price_1:flexible,monthly.eur=price_2' -> ({'monthly': {'usd': 'price_1', 'eur': 'price_2'}},
    {'monthly'}); ValueError names a bad entry."""
    out: dict[str, dict[str, str]] = {}
    flexible: set[str] = set()
    for part in csv(value):
        key, sep, price = part.partition("=")
        price, _, flag = price.strip().partition(":")
        name, _, code = key.strip().partition(".")
        if not sep or not name.strip() or not price.strip() or flag not in ("", "flexible"):
            raise ValueError(f"{what} entry {part!r} is not plan[.currency]=price_id[:flexible]")
        try:
            currency = money.check_currency(code) if code else default_currency
        except ValueError as exc:
            raise ValueError(f"{what} entry {part!r}: {exc}") from exc
        out.setdefault(name.strip(), {})[currency] = price.strip()
        if flag:
            flexible.add(name.strip())
    return out, frozenset(flexible)


def parse_presets(value: str, default_currency: str) -> dict[tuple[str, str], tuple[int, ...]]:
    """'monthly=500/1000/2500,monthly.eur=500/1000' -> {('monthly', 'usd'): (500, 1000, 2500), ...}"""
    out = {}
    for part in csv(value):
        key, sep, amounts = part.partition("=")
        name, _, code = key.strip().partition(".")
        values = [a.strip() for a in amounts.split("/")]
        if not sep or not name.strip() or not all(v.isdigit() and int(v) > 0 for v in values):
            raise ValueError(f"PLAN_PRESETS entry {part!r} is not plan[.currency]=amount/amount/... (minor units)")
        out[(name.strip(), money.check_currency(code) if code else default_currency)] = tuple(map(int, values))
    return out


def parse_prices(value: str) -> dict[str, str]:
    """'monthly=price_1,monthly.eur=price_3,yearly=price_2' -> {'price_1': 'monthly', 'price_3': 'monthly',
    'price_2': 'yearly'}"""
    plans, _ = parse_catalogue(value, "usd")
    return {price: plan for plan, by in plans.items() for price in by.values()}


def settings_from(config: Mapping[str, Any]) -> PaymentSettings:
    currency = money.check_currency(str(config.get("PLAN_CURRENCY") or "usd"))
    plan_prices, flexible = parse_catalogue(config.get("STRIPE_PRICES") or "", currency)
    gifts, _ = parse_catalogue(config.get("GIFT_PRICES") or "", currency, "GIFT_PRICES")
    if any(not months.isdigit() for months in gifts):
        raise ValueError("GIFT_PRICES entries are months=price_id, e.g. 3=price_a,12=price_b,12.eur=price_c")
    minimums = config.get("PLAN_MINIMUMS")
    return PaymentSettings(
        prices={price: plan for plan, by in plan_prices.items() for price in by.values()},
        currency=currency, plan_prices=plan_prices, flexible=flexible,
        minimums=money.parse_minimums(money.DEFAULT_MINIMUMS if minimums is None else str(minimums)),
        presets=parse_presets(config.get("PLAN_PRESETS") or "", currency),
        gift_prices={int(months): by for months, by in gifts.items()},
        livemode=str(config.get("STRIPE_API_KEY") or "").startswith(("sk_live_", "rk_live_")),
        webhook_secrets=tuple(csv(config.get("STRIPE_WEBHOOK_SECRET") or "")),
        tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE") or 300),
        allowed_origins=tuple(o for o in map(origin, csv(config.get("SITE_ALLOWED_ORIGINS") or "")) if o),
        erasure_key=tombstones.email_key(str(config.get("SECRET_KEY") or "")),
    )
