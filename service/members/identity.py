"""Who a member is and who stands behind them (pure: no Flask, no database): the normalised email, the
placeholder address of a customer whose email is not known yet, the merge rules, and the trust rules of
checkout claims and of the customer of record.

A member is one person, identified by normalised email: customers with the same email are one member
(merged when an email becomes known or changes).

Stripe Checkout does not prove that the buyer owns the email they type, so a completed checkout only
vouches for the Stripe customer it created. A mailed sign-in link proves the address.

- A checkout claim signs the member in only when nothing but that checkout's customer stands behind the
  member: created by that customer, no other customer linked, never signed in with a link.
- The customer of record (`members.stripe_customer_id`, what the billing portal opens) is taken by
  itself only by the customer that created the member; any other customer, even one with the member's
  email (same person for counting), waits until the member signs in with a link.
- Member tokens a claim may have issued are revoked when another customer joins the member, and when
  the member first signs in with a link (from then on, only links sign them in).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PROVISIONAL_FOR = timedelta(hours=1)  # access of a member created by a claim before any membership webhook
PLACEHOLDER_DOMAIN = "@stripe-customer.invalid"


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased. Dots and +tags are kept: they may be distinct mailboxes."""
    return email.strip().lower()


def placeholder_email(customer_id: str) -> str:
    """Members are unique by email; until a customer's email is known its member holds this reserved
    (RFC 2606 `.invalid`) address, replaced as soon as an event tells the real one."""
    return f"{customer_id}{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return email.endswith(PLACEHOLDER_DOMAIN)


@dataclass(frozen=True)
class Backing:
    """What stands behind a member: the customer that created it, whether the address was proven by a
    sign-in link, and every Stripe customer whose facts belong to it."""

    created_by_customer: str | None
    email_verified: bool
    customers: frozenset[str]


def claim_signs_in(backing: Backing, customer_id: str | None) -> bool:
    """Whether a paid checkout of `customer_id` may hand out a member token for this member."""
    if not customer_id or backing.email_verified:
        return False
    return backing.created_by_customer == customer_id and backing.customers <= {customer_id}


def takes_customer_of_record(created_by_customer: str | None, customer_id: str) -> bool:
    """Whether a customer becomes the member's customer of record without a sign-in: only its creator."""
    return bool(customer_id) and created_by_customer == customer_id


def may_hold_claim_tokens(created_by_customer: str | None, email_verified_at: datetime | None) -> bool:
    """Only a member created by a checkout and never signed in with a link can hold claim tokens."""
    return created_by_customer is not None and email_verified_at is None


def merge_revokes_tokens(created_by_customer: str | None, email_verified_at: datetime | None,
                         customer_id: str) -> bool:
    """Another customer joins the member (same email): tokens a claim issued for the creator are revoked,
    so the creator's buyer never reads what the newcomer brings, and the other way round."""
    return may_hold_claim_tokens(created_by_customer, email_verified_at) and created_by_customer != customer_id


def customer_to_adopt(current: str | None, live_customer: str | None, linked_newest_first: Sequence[str],
                      held_elsewhere: Collection[str] = ()) -> str | None:
    """The customer of record after a sign-in with a link: the customer of the member's current
    subscription (the one to manage), else the one it has, else the newest customer linked to it.
    A customer held by another member is never taken."""
    linked = [c for c in linked_newest_first if c not in held_elsewhere]
    if live_customer and live_customer in linked:
        return live_customer
    if current:
        return current
    return linked[0] if linked else None


def provisional_until(now: datetime) -> datetime:
    return now + PROVISIONAL_FOR
