"""Payments settings, parsed once at app creation: prices and plans, live mode, webhook secrets, return origins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.config import csv
from service.members import tombstones
from service.urls import origin


@dataclass(frozen=True)
class PaymentSettings:
    prices: dict[str, str]  # price id -> plan name
    livemode: bool
    webhook_secrets: tuple[str, ...]
    tolerance: int = 300
    allowed_origins: tuple[str, ...] = ()
    erasure_key: bytes = b""  # HMAC key of email tombstones, from SECRET_KEY (members/tombstones.py)

    @property
    def plans(self) -> dict[str, str]:
        return {plan: price for price, plan in self.prices.items()}


def parse_prices(value: str) -> dict[str, str]:
    """'monthly=price_1,yearly=price_2' -> {'price_1': 'monthly', 'price_2': 'yearly'}"""
    out = {}
    for part in csv(value):
        plan, sep, price = part.partition("=")
        if not sep or not plan.strip() or not price.strip():
            raise ValueError(f"STRIPE_PRICES entry {part!r} is not plan=price_id")
        out[price.strip()] = plan.strip()
    return out


def settings_from(config: Mapping[str, Any]) -> PaymentSettings:
    return PaymentSettings(
        prices=parse_prices(config.get("STRIPE_PRICES") or ""),
        livemode=str(config.get("STRIPE_API_KEY") or "").startswith(("sk_live_", "rk_live_")),
        webhook_secrets=tuple(csv(config.get("STRIPE_WEBHOOK_SECRET") or "")),
        tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE") or 300),
        allowed_origins=tuple(o for o in map(origin, csv(config.get("SITE_ALLOWED_ORIGINS") or "")) if o),
        erasure_key=tombstones.email_key(str(config.get("SECRET_KEY") or "")),
    )
