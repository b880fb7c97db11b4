"""Checkout claims and the trust a sign-in link gives (the rules: service/members/identity.py).

A paid membership Checkout Session is exchanged for a member token only when that checkout is all that
stands behind the member (a reader who has just joined); for anyone else the claim mails a sign-in link
to the member's own stored address, since Checkout does not prove the buyer owns the email they typed.
A member the claim creates before any membership webhook is provisional (at most an hour).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import is_unique_violation
from service.errors import Conflict, NotFound
from service.members import identity, records
from service.members.identity import is_placeholder, normalize_email
from service.members.models import Member, Subscription
from service.payments import events
from service.payments.models import StripeCustomer, WebhookEvent
from service.paywall import billing, member_access, signin
from service.paywall.models import MagicLink
from service.paywall.settings import Settings

CHECKOUT_SESSION_RE = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
PAID = ("paid", "no_payment_required")


class NotMembershipCheckout(Conflict):
    type = "checkout-not-membership"
    title = "Not a membership checkout"


@dataclass(frozen=True)
class Claim:
    member: Member
    signed_in: bool  # False: a sign-in link went to the member's stored address instead of a token


def claim_checkout(session: Session, settings: Settings, client: stripe.StripeClient,
                   prices: dict[str, str], session_id: str, now: datetime, return_url: str | None = None) -> Claim:
    """The member who completed and paid a membership Checkout Session: signed in when the checkout alone
    stands behind them (created now, provisional, if unknown), else sent a sign-in link."""
    if return_url is not None:
        signin.check_return_url(settings, return_url)
    cs = paid_checkout(session, settings, client, session_id, now)
    membership_plan(session, client, prices, cs)
    customer_id = events.ref(cs.get("customer"))
    if not customer_id:
        raise Conflict("The checkout has no Stripe customer.")
    email = events.session_email(cs)
    member = find_member_for_customer(session, customer_id, email)
    if member is None:
        if not email:
            raise Conflict("The checkout has no customer email to sign in with.")
        member = _provisional_member(session, cs, customer_id, email, now)  # (it passes the check below)
    if identity.claim_signs_in(backing(session, member), customer_id):
        return Claim(member, True)
    _mail_link(session, settings, member, cs, return_url, now)
    return Claim(member, False)


def paid_checkout(session: Session, settings: Settings, client: stripe.StripeClient, session_id: str,
                  now: datetime) -> dict[str, Any]:
    """The session, complete, paid and recent: from the stored webhook when payments applied it, else from
    Stripe (with its subscription expanded, for the plan check)."""
    if not CHECKOUT_SESSION_RE.match(session_id or ""):
        raise NotFound("No such Checkout Session.")
    cs = stored_checkout_session(session, session_id)
    if cs is None:
        cs = billing.stripe_call(lambda: client.v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["subscription"]}), "Checkout Session").to_dict()
    status, paid = cs.get("status"), cs.get("payment_status")
    if cs.get("mode") != "subscription":
        raise NotMembershipCheckout("This checkout is not a membership (subscription) checkout.")
    if status != "complete" or paid not in PAID:
        raise Conflict("This checkout is not complete and paid yet.", checkout_status=status, payment_status=paid)
    created = cs.get("created")
    if isinstance(created, int) and now.timestamp() - created > settings.checkout_claim_max_age.total_seconds():
        raise Conflict("This checkout is too old to sign in with; ask for a sign-in link instead.")
    return cs


def stored_checkout_session(session: Session, session_id: str) -> dict[str, Any] | None:
    """The session as the signature-verified `checkout.session.completed` webhook delivered it, if payments
    stored and applied that event (no call to Stripe needed)."""
    payloads = session.scalars(select(WebhookEvent.payload).where(
        WebhookEvent.object_id == session_id, WebhookEvent.status == "applied",
        WebhookEvent.type.in_(("checkout.session.completed", "checkout.session.async_payment_succeeded")))).all()
    for payload in payloads:
        try:
            obj = json.loads(payload)["data"]["object"]
        except (ValueError, KeyError, TypeError):
            continue
        if (isinstance(obj, dict) and obj.get("id") == session_id and obj.get("mode") == "subscription"
                and obj.get("status") == "complete" and obj.get("payment_status") in PAID):
            return obj
    return None


def membership_plan(session: Session, client: stripe.StripeClient, prices: dict[str, str], cs: dict[str, Any]
                    ) -> str:
    """The plan of the session's subscription: its price must be one of STRIPE_PRICES. Known from a stored
    subscription snapshot (payments keeps only membership prices), else asked of Stripe."""
    refused = NotMembershipCheckout("This checkout is not for a membership plan.")
    sub = cs.get("subscription")
    sub_id = events.ref(sub)
    if not sub_id:
        raise refused
    if not isinstance(sub, dict):
        known = session.execute(select(Subscription.price_id).where(
            Subscription.stripe_id == sub_id, Subscription.stripe_status != "")).scalar()
        if known in prices:
            return prices[known]
        sub = billing.stripe_call(lambda: client.v1.subscriptions.retrieve(sub_id), "subscription").to_dict()
    plan = next((prices[p] for p in events.subscription_price_ids(sub) if p in prices), None)
    if plan is None:
        raise refused
    return plan


def find_member_for_customer(session: Session, customer_id: str, email: str | None) -> Member | None:
    """Payments' customer -> member mapping first, then the member's own customer id, then the email."""
    member_id = session.scalar(select(StripeCustomer.member_id).where(StripeCustomer.customer_id == customer_id))
    if member_id is not None:
        return session.get(Member, member_id)
    member = session.scalar(select(Member).where(Member.stripe_customer_id == customer_id))
    if member is not None or not email:
        return member
    return session.scalar(select(Member).where(Member.email == normalize_email(email)))


def backing(session: Session, member: Member) -> identity.Backing:
    """Every Stripe customer whose facts belong to the member: payments' links, its subscriptions' customers
    and its customer of record."""
    customers = set(session.scalars(select(StripeCustomer.customer_id).where(StripeCustomer.member_id == member.id)))
    customers |= set(session.scalars(select(Subscription.customer_id).where(
        Subscription.member_id == member.id, Subscription.customer_id != "")))
    if member.stripe_customer_id:
        customers.add(member.stripe_customer_id)
    return identity.Backing(member.created_by_customer, member.email_verified_at is not None, frozenset(customers))


def _provisional_member(session: Session, cs: dict[str, Any], customer_id: str, email: str, now: datetime
                        ) -> Member:
    """A member for a reader nobody knows yet, with access for at most an hour until the membership's
    webhooks arrive. If a webhook creates them meanwhile (same email), that member is the answer."""
    metadata = cs.get("metadata") if isinstance(cs.get("metadata"), dict) else {}
    try:
        with session.begin_nested():  # (pending: payments' webhooks derive its status from Stripe's facts)
            member = records.create(session, email=normalize_email(email), now=now, created_by_customer=customer_id,
                                    stripe_customer_id=customer_id, provisional_until=identity.provisional_until(now),
                                    plan=str(metadata.get("plan") or ""), locale=str(metadata.get("locale") or ""),
                                    source=str(metadata.get("source") or ""))
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        found = find_member_for_customer(session, customer_id, email)
        if found is None:
            raise
        return found
    return member


def _mail_link(session: Session, settings: Settings, member: Member, cs: dict[str, Any],
               return_url: str | None, now: datetime) -> None:
    """A sign-in link to the member's stored address, unless a link went there since the checkout began:
    one checkout mails at most once, so repeated claims neither flood the mailbox nor spend the address's
    sign-in quota (paywall/quota.py counts links). Nothing when the address is not known yet."""
    if is_placeholder(member.email):
        return
    since = events.ts(cs.get("created")) if isinstance(cs.get("created"), int) else now - settings.magic_link_ttl
    sent = session.scalar(select(MagicLink.id).where(MagicLink.email == member.email, MagicLink.created_at >= since)
                          .limit(1))
    if sent is not None:
        return
    if return_url is None:
        origins = settings.allowed_origins
        return_url = origins[0] + "/" if origins else settings.public_base_url + "/"
    signin.send_sign_in_link(session, settings, email=member.email, return_url=return_url, now=now)


def signed_in_with_link(session: Session, member: Member, now: datetime) -> None:
    """A sign-in link proved the member reads their address. The first time, tokens a checkout claim may
    have issued are revoked (from now on only links sign them in). Then the customer of record is adopted:
    the customer of the current subscription, else the one it has, else the newest linked customer."""
    records.verify_email(member, now)
    linked = list(session.scalars(select(StripeCustomer.customer_id).where(StripeCustomer.member_id == member.id)
                                  .order_by(StripeCustomer.id.desc())))
    if not linked:
        return
    held = set(session.scalars(select(Member.stripe_customer_id).where(
        Member.stripe_customer_id.in_(linked), Member.id != member.id)))
    current = member_access.current_subscription(member)
    choice = identity.customer_to_adopt(member.stripe_customer_id, getattr(current, "customer_id", None), linked,
                                        held)
    records.set_customer_of_record(member, choice, now)
