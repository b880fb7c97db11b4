"""A member's status (pure: no Flask, no database): their state derived from the facts known about their
membership subscriptions and payments, in membership vocabulary (`MEMBERSHIP_STATUSES`). The payment
provider's vocabulary stays with payments (service/payments/facts.py turns Stripe's objects into these
facts).

Deriving the whole state from facts, rather than stepping it event by event, is what makes the
result independent of the order in which the facts arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MEMBERSHIP_STATUSES = ("active", "past_due", "pending", "ended")
LIVE_STATUSES = ("active", "past_due")  # membership statuses that grant membership
# Best first: a member's status is the best among their membership subscriptions.
_BEST = {"active": 3, "past_due": 2, "pending": 1, "ended": 0}


@dataclass(frozen=True)
class SubscriptionFacts:
    """A membership subscription: its membership status (one of MEMBERSHIP_STATUSES), attribution, and
    when it began, ended, was canceled and was last heard of (the end of an ended one when nothing else
    says when)."""

    subscription_id: str
    status: str  # membership status
    plan: str
    created: datetime | None
    ended_at: datetime | None
    canceled_at: datetime | None
    last_event_at: datetime | None
    locale: str = ""
    source: str = ""


@dataclass(frozen=True)
class InvoiceFacts:
    """A paid membership invoice: when it was paid, and when its payment came back (refunded in full or
    lost in a dispute), if it did."""

    invoice_id: str
    paid_at: datetime
    reversed_at: datetime | None  # earliest full refund / lost dispute of the payment of this invoice
    subscription_id: str = ""  # the membership subscription it paid


@dataclass(frozen=True)
class MemberState:
    status: str
    first_paid_at: datetime | None
    first_payment_reversed_at: datetime | None
    ended_at: datetime | None
    plan: str
    locale: str
    source: str

    @property
    def has_membership(self) -> bool:
        return has_membership(self.status, self.first_payment_reversed_at)


def has_membership(status: str, first_payment_reversed_at: datetime | None) -> bool:
    """A member has membership while their status is live and their sign-up payment was not reversed."""
    return status in LIVE_STATUSES and first_payment_reversed_at is None


def derive(subscriptions: Iterable[SubscriptionFacts], invoices: Iterable[InvoiceFacts]) -> MemberState:
    """A member's state from their membership subscriptions and paid membership invoices.

    The status is the best any subscription gives. A live subscription (active, past_due) whose latest
    paid invoice was fully refunded or lost in a dispute gives `ended` from that reversal on: the
    money for the period came back, whatever the subscription's own status still says (a refund does
    not cancel it); its next paid invoice makes it live again. Without subscriptions, the latest paid
    invoice decides the same way. `ended_at` is when the membership ended: the latest end of an ended
    subscription, or of a reversal that ended a live one."""
    subs = sorted(subscriptions, key=lambda s: (s.created is None, s.created.timestamp() if s.created else 0.0,
                                               s.subscription_id))
    paid = sorted(invoices, key=lambda i: (i.paid_at, i.invoice_id))
    first = paid[0] if paid else None
    latest = {i.subscription_id: i for i in paid}  # (sorted: the latest paid invoice of each wins)
    statuses, reversals = [], []
    for s in subs:
        status = s.status
        reversed_at = latest[s.subscription_id].reversed_at if s.subscription_id in latest else None
        if status in LIVE_STATUSES and reversed_at is not None:
            status = "ended"
            reversals.append(reversed_at)
        statuses.append(status)
    if not subs and paid:
        last = paid[-1].reversed_at
        statuses.append("active" if last is None else "ended")
        reversals += [last] if last is not None else []
    status = max(statuses, key=lambda st: _BEST[st]) if statuses else "pending"
    ended_at = None
    if status not in LIVE_STATUSES:
        ends = [s.ended_at or s.canceled_at or s.last_event_at for s in subs if s.status == "ended"]
        ends = [e for e in ends + reversals if e is not None]
        ended_at = max(ends) if ends else None
    # Attribution: the earliest subscription that has it (checkout metadata), whatever the order learned.
    plan = next((s.plan for s in subs if s.plan), "")
    locale = next((s.locale for s in subs if s.locale), "")
    source = next((s.source for s in subs if s.source), "")
    return MemberState(status=status, first_paid_at=first.paid_at if first else None,
                       first_payment_reversed_at=first.reversed_at if first else None,
                       ended_at=ended_at, plan=plan, locale=locale, source=source)


@dataclass(frozen=True)
class GiftState:
    """A member's gift facts: the first redemption of a gift still standing (their joining fact when they
    never paid), when the gift membership ends, and when it ended (None while it runs)."""

    redeemed_at: datetime | None
    until: datetime | None
    ended_at: datetime | None


def derive_gifts(redeemed: Iterable[tuple[datetime, datetime]], now: datetime) -> GiftState:
    """The gift facts from the (redeemed_at, ends_at) of a member's redeemed gifts that were not refunded:
    the earliest redemption, the latest end, and that end once it is not in the future. A refunded gift
    is simply absent: it no longer grants months nor counts the member."""
    gifts = list(redeemed)
    if not gifts:
        return GiftState(None, None, None)
    until = max(end for _, end in gifts)
    return GiftState(min(at for at, _ in gifts), until, until if until <= now else None)
