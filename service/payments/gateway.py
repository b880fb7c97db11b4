"""The one StripeClient of the app, built from configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe


def build_client(config: Mapping[str, Any]) -> stripe.StripeClient:
    """`STRIPE_API_BASE` points the client at another server (the tests' fake Stripe)."""
    base = config.get("STRIPE_API_BASE") or ""
    kwargs: dict[str, Any] = {"max_network_retries": int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2))}
    if base:
        kwargs["base_addresses"] = {"api": base.rstrip("/")}
        kwargs["max_network_retries"] = 0
    return stripe.StripeClient(config["STRIPE_API_KEY"], **kwargs)
