"""The membership plans a reader can choose on the join page: `STRIPE_PRICES` with each price's amount and
interval, read from Stripe once and kept per worker (no Flask).

A price Stripe does not answer for is still offered (Checkout shows its amount); such an answer is kept
only briefly (`FAILURE_SECONDS`), so a Stripe hiccup does not hide amounts for the whole TTL.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe

log = logging.getLogger(__name__)
FAILURE_SECONDS = 30.0


@dataclass(frozen=True)
class Plan:
    name: str  # the plan's name in STRIPE_PRICES (what checkout is started with)
    price: str  # Stripe price id
    amount: int | None = None  # minor units; None: Stripe did not say (Checkout will)
    currency: str = ""
    interval: str = ""  # day, week, month, year; "" for a one-off price
    interval_count: int = 1
    nickname: str = ""


def plan_of(name: str, price: dict[str, Any]) -> Plan:
    """A Plan from a Stripe Price object (as a dict)."""
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    return Plan(name=name, price=str(price.get("id") or ""), amount=int(amount) if amount is not None else None,
                currency=str(price.get("currency") or "").upper(), interval=str(recurring.get("interval") or ""),
                interval_count=int(recurring.get("interval_count") or 1), nickname=str(price.get("nickname") or ""))


def fetch_plans(client: stripe.StripeClient, plans: dict[str, str]) -> tuple[list[Plan], bool]:
    """Each configured plan (name -> price id) with what Stripe says of its price, in configuration order;
    and whether Stripe answered for all of them."""
    out, complete = [], True
    for name, price_id in plans.items():
        try:
            out.append(plan_of(name, client.v1.prices.retrieve(price_id).to_dict()))
        except stripe.StripeError as exc:
            log.warning("stripe price %s (plan %s) could not be read: %s", price_id, name, type(exc).__name__)
            out.append(Plan(name=name, price=price_id))
            complete = False
    return out, complete


class PlanCatalogue:
    """The plans, read from Stripe at most once per `ttl` seconds per worker (`time`: the app clock's
    monotonic, so tests move it instead of sleeping)."""

    def __init__(self, ttl: float, time: Callable[[], float] = _time.monotonic) -> None:
        self.ttl = ttl
        self.time = time
        self._plans: list[Plan] | None = None
        self._key: tuple = ()
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, client: stripe.StripeClient, plans: dict[str, str]) -> list[Plan]:
        key = tuple(plans.items())
        if self._plans is not None and key == self._key and self.time() < self._expires:
            return self._plans
        with self._lock:
            if self._plans is None or key != self._key or self.time() >= self._expires:
                found, complete = fetch_plans(client, plans) if plans else ([], True)
                self._plans, self._key = found, key
                self._expires = self.time() + (self.ttl if complete else min(self.ttl, FAILURE_SECONDS))
            return self._plans

    def clear(self) -> None:
        self._plans = None
