"""A Stripe webhook body checked against `Stripe-Signature` (every configured secret) and parsed."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe

from service.payments import events
from service.payments.settings import PaymentSettings

log = logging.getLogger(__name__)


class SignatureError(ValueError):
    """The body is not a verified Stripe event."""


class UnusableBody(SignatureError):
    """Correctly signed, but not JSON, or without an id to store it under."""


def verify(payload: bytes, header: str | None, settings: PaymentSettings) -> dict[str, Any]:
    """Check `Stripe-Signature` with stripe-python against each configured secret (rotation), then
    parse. Raises SignatureError with a reason that is safe to show.

    A verified body is returned as soon as it is a JSON object with an id, its ledger key, however
    malformed the rest: `ingest` stores it and records why it cannot be applied. A signed body without
    an id is refused (400): Stripe sends none (every event, snapshot or thin, has an `evt_` id), so it
    comes from another holder of the secret, and there is nothing to store it under or to retry."""
    if not header:
        raise SignatureError("Missing Stripe-Signature header.")
    if not settings.webhook_secrets:
        raise SignatureError("No webhook secret is configured.")
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("The body is not UTF-8.") from exc
    reasons = []
    for secret in settings.webhook_secrets:
        try:
            stripe.WebhookSignature.verify_header(body, header, secret, settings.tolerance)
            break
        except stripe.SignatureVerificationError as exc:
            reasons.append(str(getattr(exc, "user_message", None) or exc))
    else:
        if any("tolerance" in r for r in reasons):  # signed with a good secret, but too long ago
            raise SignatureError("The signature's timestamp is outside the tolerance (replayed or delayed).")
        raise SignatureError("The Stripe-Signature header does not match the body.")
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UnusableBody("The body is signed but is not JSON.") from exc
    if events.event_id(event) is None:
        log.warning("signed webhook body without a usable event id refused")
        raise UnusableBody("The body is signed but is not a Stripe event: it needs a JSON object with a "
                             "string id of at most 255 printable characters.")
    return event
