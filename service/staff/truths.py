"""What the dashboard says in words, so that it never says more than the numbers do (pure: no Flask, no
database): percentages of the goal, how an ended campaign ended, why the chart's last point and the
headline count differ, and why a webhook event was ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


def percent_label(percent_of_goal: float) -> str:
    """'171% of goal', '42.5% of goal' (over 100 is not a progress bar's share: say what it is)."""
    value = float(percent_of_goal)
    return f"{value:,.0f}% of goal" if value.is_integer() else f"{value:,.1f}% of goal"


@dataclass(frozen=True)
class Outcome:
    reached: bool
    text: str


def outcome(progress: dict[str, Any], deadline: date) -> Outcome | None:
    """How an ended campaign ended (None while it runs): reached or not, with the final count."""
    if progress["status"] != "ended":
        return None
    count, goal = int(progress["count"]), int(progress["goal"])
    when = f"Ended on {deadline.day} {deadline:%b %Y}"
    share = percent_label(progress["percent_of_goal"])
    if count >= goal:
        return Outcome(True, f"{when} with {count:,} members: the goal of {goal:,} was reached ({share}).")
    return Outcome(False, f"{when} with {count:,} members, {goal - count:,} short of the goal of {goal:,} "
                          f"({share}).")


def chart_gap(count: int, cumulative: list[tuple[date, int]], ended_after: int, joined_after: int,
              adjusted_after: int = 0) -> str:
    """Why the headline count and the chart's last point differ ('' when they agree). The chart stops at the
    campaign's last day; the count also moves with what happened after it (a net count loses members who
    cancel later)."""
    if not cumulative:
        return ""
    last_day, last = cumulative[-1]
    gap = count - last
    if gap == 0:
        return ""
    parts = []
    if ended_after:
        parts.append(f"{ended_after:,} cancellation{'s' if ended_after != 1 else ''} after the campaign ended")
    if joined_after:
        parts.append(f"{joined_after:,} sign-up{'s' if joined_after != 1 else ''} dated after its last day")
    if adjusted_after:
        parts.append(f"adjustments of {adjusted_after:+,} made after it")
    why = " and ".join(parts) if parts else "changes the chart's days do not show"
    return (f"The count ({count:,}) is {abs(gap):,} {'lower' if gap < 0 else 'higher'} than the chart's last "
            f"point ({last:,} on {last_day.isoformat()}): {why}.")


IGNORED_WHY = {
    "customer.subscription.created": "not a membership subscription (a price not in STRIPE_PRICES) or no customer",
    "customer.subscription.updated": "not a membership subscription (a price not in STRIPE_PRICES) or no customer",
    "customer.subscription.deleted": "not a membership subscription (a price not in STRIPE_PRICES) or no customer",
    "invoice.paid": "not an invoice of a membership subscription, or no customer",
    "invoice.payment_failed": "not an invoice of a membership subscription, or no customer",
    "invoice_payment.paid": "it names no payment or no invoice to link",
    "charge.refunded": "a partial refund: the membership it paid for stands",
    "charge.dispute.closed": "the dispute was not lost, or it names no payment",
    "customer.created": "it names no customer",
    "customer.updated": "it names no customer",
    "checkout.session.completed": "not a membership checkout (another mode, or a plan not in STRIPE_PRICES)",
}


def ignored_why(event_type: str, event_livemode: bool, service_livemode: bool, handled: frozenset[str] | set[str]
                ) -> str:
    """Why an ignored webhook event changed nothing, from what the ledger keeps of it."""
    if bool(event_livemode) != bool(service_livemode):
        return ("a live-mode event, and this service uses a test key" if event_livemode
                else "a test-mode event, and this service uses a live key")
    if event_type not in handled:
        return "not an event type the service acts on (the Stripe endpoint can stop sending it)"
    return IGNORED_WHY.get(event_type, "not a membership matter")
