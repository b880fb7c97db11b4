"""Starting a Stripe Checkout to join, with attribution, and counting the start for the staff funnel."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import stripe
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.campaigns.services import get_public_campaign
from service.campaigns.variants import count as count_arm
from service.campaigns.variants import counted_arm
from service.errors import Invalid, UpstreamError
from service.payments import events, pricing
from service.payments.models import CheckoutStart
from service.payments.settings import PaymentSettings
from service.urls import allowed_origin

log = logging.getLogger(__name__)


def start_checkout(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *, campaign: str,
                   plan: str | None, success_url: str, cancel_url: str, now: datetime, email: str | None = None,
                   locale: str | None = None, reader_id: str | None = None, article_id: str | None = None,
                   referrer: str | None = None, variant: int | None = None, kind: str = "membership",
                   amount: int | None = None, currency: str | None = None, country: str | None = None,
                   gift: dict[str, Any] | None = None) -> dict[str, str]:
    """Create a Checkout Session with attribution metadata on the session and on the subscription (a
    membership: subscription mode) or the payment intent (`kind` contribution or gift: payment mode; see
    pricing.py for amounts, currencies and gifts), and count a membership's start for the funnel.
    `variant`: the experiment arm the reader saw
    (campaigns/variants.py counted_arm: a running variant or 0 for the control, else not attributed)."""
    found = get_public_campaign(session, campaign)  # an archived campaign takes no new sign-ups (410)
    arm = counted_arm(session, found, variant)
    for name, url in (("success_url", success_url), ("cancel_url", cancel_url)):
        if not allowed_origin(url, settings.allowed_origins):
            raise Invalid(f"{name} must be on one of the site's allowed origins.",
                          errors={name: ["Origin not allowed."]})
    plan = plan if kind == "membership" else None  # kinds: pricing.py (amounts, currencies, gifts)
    priced = pricing.priced_for(session, client, settings, kind=kind, plan=plan, amount=amount, currency=currency,
                                country=country, locale=locale, gift_details=gift, title=found.title, now=now)
    source = events.source_of(article_id, referrer)
    metadata = {k: v for k, v in (("campaign", found.slug), ("plan", plan), ("locale", locale or ""),
                                  ("source", source), ("reader_id", reader_id or ""),
                                  ("article_id", article_id or ""),
                                  ("variant", "" if arm is None else str(arm))) if v}
    metadata.update(priced.metadata)
    params: dict[str, Any] = {
        **pricing.session_params(priced, metadata),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": events.checkout_locale(locale),
    }
    if reader_id:
        params["client_reference_id"] = reader_id
    if email:
        params["customer_email"] = email
    try:
        created = client.v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        request_id = getattr(exc, "request_id", None) or ""
        message = getattr(exc, "user_message", None) or "Stripe refused the request"
        log.warning("stripe checkout failed: %s (request %s)", type(exc).__name__, request_id)
        raise UpstreamError(f"Stripe could not create the checkout: {message} (Stripe request id: "
                            f"{request_id or 'unknown'}).", stripe_request_id=request_id) from exc
    if plan:  # the membership funnel (contributions and gifts have their own figures)
        count_start(session, found.id, now.astimezone(UTC).date(), plan, (locale or "")[:35], source)
    if arm is not None:
        count_arm(session, found, arm, "checkout", now)
    return {"id": created.id, "url": created.url}


def count_start(session: Session, campaign_id: int, day: date, plan: str, locale: str, source: str) -> None:
    conn = session.connection()
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    table = CheckoutStart.__table__
    stmt = maker(table).values(campaign_id=campaign_id, day=day, plan=plan, locale=locale, source=source, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["campaign_id", "day", "plan", "locale", "source"],
                                      set_={"count": table.c.count + 1})
    session.execute(stmt)
