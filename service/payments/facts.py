"""Stripe's vocabulary, turned into membership facts (pure: no Flask, no database).

Stripe subscription status -> membership status; which of two observations of a subscription is the
newer (so that any order of events ends in the same state); a subscription's effective Stripe status
from its newest snapshot and the invoice facts newer than it; and the neutral facts
(`service.members.status.SubscriptionFacts`, `InvoiceFacts`) that members derive a member from.
"""

from __future__ import annotations

from datetime import datetime

from service.members.status import InvoiceFacts, SubscriptionFacts

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


def subscription_facts(stripe_id: str, status: str, plan: str, created: datetime | None,
                       ended_at: datetime | None, canceled_at: datetime | None, last_event_at: datetime | None,
                       locale: str = "", source: str = "") -> SubscriptionFacts:
    """A stored subscription (its effective Stripe `status`) as membership facts."""
    return SubscriptionFacts(stripe_id, membership_status(status), plan, created, ended_at, canceled_at,
                             last_event_at, locale, source)


def invoice_facts(invoice_id: str, paid_at: datetime, reversed_at: datetime | None, subscription_id: str | None
                  ) -> InvoiceFacts:
    """A paid membership invoice, with the earliest reversal of a payment of it, as membership facts."""
    return InvoiceFacts(invoice_id, paid_at, reversed_at, subscription_id or "")
