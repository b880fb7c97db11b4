"""The Stripe billing portal for a signed-in member, and Stripe calls with errors as domain errors
(checkout claims: paywall/claims.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from service.errors import Conflict, NotFound, UpstreamError
from service.members.models import Member
from service.paywall.settings import Settings
from service.paywall.signin import check_return_url


def stripe_call(fn: Callable[[], Any], what: str) -> Any:
    try:
        return fn()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise NotFound(f"Stripe does not know this {what}.") from exc
        raise UpstreamError(f"Stripe refused the {what} request.") from exc
    except stripe.StripeError as exc:
        raise UpstreamError(f"Stripe could not be reached for the {what}; try again.") from exc


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    try:
        return obj[name]
    except (KeyError, TypeError):
        return getattr(obj, name, None)


def billing_portal_url(settings: Settings, client: stripe.StripeClient, member: Member, return_url: str | None
                       ) -> str:
    if return_url is not None:
        check_return_url(settings, return_url)
    else:
        return_url = (settings.allowed_origins[0] + "/") if settings.allowed_origins else settings.public_base_url
    if not member.stripe_customer_id:
        raise Conflict("This membership has no Stripe customer to manage.")
    portal = stripe_call(lambda: client.v1.billing_portal.sessions.create(
        params={"customer": member.stripe_customer_id, "return_url": return_url}), "billing portal session")
    return str(_field(portal, "url"))
