"""A member's standing (pure: no Flask, no database): what their subscriptions grant now.

`membership()` says whether a member's subscriptions grant access now: member, grace, provisional,
lapsed or none. The paywall's access decision reads it; it knows nothing of Stripe beyond the
subscription statuses it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ACTIVE = ("active", "trialing")


@dataclass(frozen=True)
class Sub:
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool = False
    payment_failed_at: datetime | None = None


@dataclass(frozen=True)
class Standing:
    """What a member's subscriptions mean now: `member`, `grace`, `provisional` (a checkout claim's member
    whose membership has not arrived yet), `lapsed` or `none` (never paid). `reason`: `gift` (a member by a
    gift membership), `gift_ended` (lapsed: the gift membership is over), else ''."""

    kind: str
    until: datetime | None = None
    reason: str = ""


def membership(subs: Iterable[Sub], *, member_status: str, first_paid_at: datetime | None, now: datetime,
               grace_days: int, provisional_until: datetime | None = None,
               gift_until: datetime | None = None) -> Standing:
    """The best standing the subscriptions (`paid_membership`) or a gift membership give.

    A gift membership (service/gifts) makes a member until `gift_until`: a paying member stays a member
    (until the later of the two ends); anyone else (in grace, provisional, lapsed, never paid) is a member
    by the gift. Once the gift has ended, a member the subscriptions leave lapsed or metered is `lapsed`
    with reason `gift_ended` (the paywall invites them to continue with their own membership).
    """
    paid = paid_membership(subs, member_status=member_status, first_paid_at=first_paid_at, now=now,
                           grace_days=grace_days, provisional_until=provisional_until)
    if gift_until is None:
        return paid
    if now < gift_until:
        if paid.kind == "member":
            return Standing("member", None if paid.until is None else max(paid.until, gift_until))
        return Standing("member", gift_until, "gift")
    if paid.kind in ("lapsed", "none"):
        return Standing("lapsed", gift_until, "gift_ended")
    return paid


def paid_membership(subs: Iterable[Sub], *, member_status: str, first_paid_at: datetime | None, now: datetime,
                    grace_days: int, provisional_until: datetime | None = None) -> Standing:
    """The best standing any subscription gives.

    - active or trialing: member (until current_period_end, also when set to cancel then: Stripe keeps
      such a subscription active until the paid period is over). A subscription that has ended
      (`canceled`, `unpaid`, ...: e.g. canceled at once, ended_at now) grants nothing, however far away
      its current_period_end;
    - a member whose membership derive() says ended (`member_status` "ended": every subscription ended,
      or the payment of each live one fully refunded or lost in a dispute) gets nothing from them;
    - past_due: grace for grace_days from the start of the failure: the renewal's failed payment when
      known, else current_period_end taken as the due date;
    - a member row with no subscription yet counts by its own status (a paid invoice arrived first);
    - a member created by a checkout claim, never paid and with no subscription past `incomplete` (what a
      checkout webhook records before the subscription's own): provisional until `provisional_until`;
    - otherwise lapsed when they paid before, else none (an ordinary, metered reader).
    """
    subs = list(subs)
    best: Standing | None = None
    for s in subs if member_status != "ended" else ():
        end = s.current_period_end
        if s.status in ACTIVE:
            return Standing("member", end)
        due = s.payment_failed_at or end
        if s.status == "past_due" and due is not None:
            grace_end = due + timedelta(days=grace_days)
            if now < grace_end and (best is None or (best.until or now) < grace_end):
                best = Standing("grace", grace_end)
    if best is not None:
        return best
    if not subs and member_status in ACTIVE:
        return Standing("member", None)
    if (provisional_until is not None and now < provisional_until and first_paid_at is None
            and all(s.status == "incomplete" for s in subs)):
        return Standing("provisional", provisional_until)
    if first_paid_at is not None:
        return Standing("lapsed")
    return Standing("none")
