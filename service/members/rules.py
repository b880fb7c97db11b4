"""Membership rules (pure: no Flask, no database): Stripe subscription status -> membership status,
and a member's state derived from the facts known about their subscriptions and payments.

Deriving the whole state from facts, rather than stepping it event by event, is what makes the
result independent of the order in which Stripe's events arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Stripe subscription status -> membership status.
STATUS_MAP = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",  # renewal failed, Stripe is retrying: still a member (grace period)
    "incomplete": "pending",  # first payment not done yet
    "canceled": "ended",
    "unpaid": "ended",  # retries exhausted: counts as ended
    "incomplete_expired": "ended",
    "paused": "ended",  # trial ended without a payment method: no access until resumed
}
MEMBERSHIP_STATUSES = ("active", "past_due", "pending", "ended")
LIVE_STATUSES = ("active", "past_due")  # membership statuses that grant membership
# Best first: a member's status is the best among their membership subscriptions.
_BEST = {"active": 3, "past_due": 2, "pending": 1, "ended": 0}
# On equal event times, the more terminal Stripe status wins (canceled last of all).
_TERMINAL_RANK = {"incomplete": 0, "trialing": 1, "active": 1, "past_due": 2, "paused": 3, "unpaid": 4,
                  "incomplete_expired": 5, "canceled": 6}


def membership_status(stripe_status: str) -> str:
    return STATUS_MAP.get(stripe_status, "pending")


def terminal_rank(stripe_status: str) -> int:
    return _TERMINAL_RANK.get(stripe_status, 0)


def is_newer(at: datetime, status: str, event_id: str,
             last_at: datetime | None, last_status: str, last_event_id: str) -> bool:
    """Whether an observation (time, status, event id) replaces the stored one: later time wins; on equal
    times the more terminal status; then the greater event id, so that any order ends in the same state."""
    if last_at is None:
        return True
    return (at, terminal_rank(status), event_id) > (last_at, terminal_rank(last_status), last_event_id)


def effective_status(snapshot_status: str, snapshot_at: datetime | None, payment_failed_at: datetime | None,
                     last_paid_at: datetime | None = None) -> str:
    """The subscription's Stripe status from its newest snapshot, corrected by invoice facts newer than it
    (invoice events may arrive before, or without, the subscription update that goes with them):
    a paid invoice makes an incomplete subscription active; a renewal failure newer than both the
    snapshot and the last paid invoice makes an active one past_due."""
    status = snapshot_status or "incomplete"
    if status == "incomplete" and last_paid_at is not None and (snapshot_at is None or last_paid_at >= snapshot_at):
        status = "active"
    newest_good = max((t for t in (snapshot_at, last_paid_at) if t is not None), default=None)
    if payment_failed_at is not None and (newest_good is None or payment_failed_at > newest_good):
        # (with no snapshot, the failure of a renewal still says the subscription exists and is failing)
        if status in ("active", "trialing") or not snapshot_status:
            status = "past_due"
    return status


@dataclass(frozen=True)
class SubscriptionFacts:
    stripe_id: str
    status: str  # effective Stripe status
    plan: str
    created: datetime | None
    ended_at: datetime | None
    canceled_at: datetime | None
    last_event_at: datetime | None
    locale: str = ""
    source: str = ""


@dataclass(frozen=True)
class InvoiceFacts:
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
        return self.status in LIVE_STATUSES and self.first_payment_reversed_at is None


def derive(subscriptions: Iterable[SubscriptionFacts], invoices: Iterable[InvoiceFacts]) -> MemberState:
    """A member's state from their membership subscriptions and paid membership invoices.

    The status is the best any subscription gives. A live subscription (active, past_due) whose latest
    paid invoice was fully refunded or lost in a dispute gives `ended` from that reversal on: the
    money for the period came back, whatever Stripe still says of the subscription (a refund does not
    cancel it); its next paid invoice makes it live again. Without subscriptions, the latest paid
    invoice decides the same way. `ended_at` is when the membership ended: the latest end of an ended
    subscription, or of a reversal that ended a live one."""
    subs = sorted(subscriptions, key=lambda s: (s.created is None, s.created.timestamp() if s.created else 0.0,
                                               s.stripe_id))
    paid = sorted(invoices, key=lambda i: (i.paid_at, i.invoice_id))
    first = paid[0] if paid else None
    latest = {i.subscription_id: i for i in paid}  # (sorted: the latest paid invoice of each wins)
    statuses, reversals = [], []
    for s in subs:
        status = membership_status(s.status)
        reversed_at = latest[s.stripe_id].reversed_at if s.stripe_id in latest else None
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
        ends = [s.ended_at or s.canceled_at or s.last_event_at for s in subs
                if membership_status(s.status) == "ended"]
        ends = [e for e in ends + reversals if e is not None]
        ended_at = max(ends) if ends else None
    # Attribution: the earliest subscription that has it (checkout metadata), whatever the order learned.
    plan = next((s.plan for s in subs if s.plan), "")
    locale = next((s.locale for s in subs if s.locale), "")
    source = next((s.source for s in subs if s.source), "")
    return MemberState(status=status, first_paid_at=first.paid_at if first else None,
                       first_payment_reversed_at=first.reversed_at if first else None,
                       ended_at=ended_at, plan=plan, locale=locale, source=source)
