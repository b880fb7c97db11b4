"""One-time contributions: recorded once per payment, reversed by refunds, counted as people, never as members.

A contribution is a payment-mode Checkout this service started (`checkout.py`, metadata `kind:
contribution`, `campaign`, copied onto the payment intent). It is recorded from
`checkout.session.completed` (paid) or `payment_intent.succeeded`, whichever comes first, one row per
payment intent (a unique column); the other event only fills in what the first lacked (an email, a
customer) and the earliest Stripe time is the payment's time. A full refund or a lost dispute (the
`stripe_payments` fact written by the charge handlers, in any order) reverses it.

The counting rule: a campaign's `contributors_counted` is the number of people (`person`: normalised
email, else Stripe customer, else the payment) with at least one contribution paid inside the campaign's
window [starts_at, ends_at) and not reversed. It is kept on write: every change of a contribution
recounts only the people and campaigns it can move, under the payments write lock, so reading it is
free on the progress hot path. Contributions never create or change a member and never enter the member
count (`Campaign.count`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.campaigns.models import Campaign
from service.db import aware
from service.members.identity import normalize_email
from service.payments import events
from service.payments.apply import Context
from service.payments.models import Contribution, StripePayment

KIND = "contribution"

Window = tuple[int, datetime, datetime]  # campaign id, starts_at, ends_at


def person_of(email: str, customer_id: str, payment_intent: str) -> str:
    """Who gave: the normalised email, else the Stripe customer, else the payment itself."""
    if email:
        return f"email:{email}"[:330]
    if customer_id:
        return f"customer:{customer_id}"[:330]
    return f"payment:{payment_intent}"[:330]


def _email(value: Any) -> str:
    email = normalize_email(value) if isinstance(value, str) else ""
    return email if email and "@" in email and len(email) <= 320 else ""


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata")
    return md if isinstance(md, dict) else {}


def recorded(session: Session, obj: dict[str, Any]) -> bool:
    """Whether the contribution of a paid Checkout Session is recorded (reconciliation asks)."""
    pi = events.ref(obj.get("payment_intent"))
    return bool(pi) and session.scalar(select(Contribution.id).where(Contribution.payment_intent == pi)) is not None


# --- handlers (registered for payment-mode sessions and payment intents in one_time.py) -----------------

def on_session_completed(ctx: Context, obj: dict[str, Any]) -> str:
    """A paid payment-mode Checkout Session with `kind: contribution`."""
    return record(ctx, payment_intent=events.ref(obj.get("payment_intent")), metadata=_metadata(obj),
                  checkout_session=events.ref(obj.get("id")), customer_id=events.ref(obj.get("customer")),
                  email=events.session_email(obj), amount=obj.get("amount_total"), currency=obj.get("currency"))


def on_intent_succeeded(ctx: Context, obj: dict[str, Any]) -> str:
    """payment_intent.succeeded of a contribution (the session's metadata is copied onto the intent)."""
    return record(ctx, payment_intent=events.ref(obj.get("id")), metadata=_metadata(obj),
                  customer_id=events.ref(obj.get("customer")), email=obj.get("receipt_email"),
                  amount=obj.get("amount_received"), currency=obj.get("currency"))


def record(ctx: Context, *, payment_intent: str, metadata: dict[str, Any], checkout_session: str = "",
           customer_id: str = "", email: Any = None, amount: Any = 0, currency: Any = "") -> str:
    """Record (or complete) the contribution of one payment intent; idempotent, order-independent."""
    if not payment_intent:
        return "ignored"
    s = ctx.session
    row = s.scalar(select(Contribution).where(Contribution.payment_intent == payment_intent))
    values = {"checkout_session": checkout_session[:255], "customer_id": customer_id[:255], "email": _email(email),
              "campaign": str(metadata.get("campaign") or "")[:64], "locale": str(metadata.get("locale") or "")[:35],
              "source": str(metadata.get("source") or "")[:200],
              "currency": str(currency or "").lower()[:3], "amount": _int(amount)}
    if row is None:
        reversed_at = s.scalar(select(StripePayment.reversed_at).where(StripePayment.payment_key == payment_intent))
        new = Contribution(payment_intent=payment_intent[:255], paid_at=ctx.at, reversed_at=aware(reversed_at),
                           created_at=ctx.now, updated_at=ctx.now, **values)
        new.person = person_of(new.email, new.customer_id, new.payment_intent)
        _counted_change(ctx, None, new)
        return "applied"
    changes = {k: v for k, v in values.items() if v and not getattr(row, k)}  # fill in, never overwrite
    if aware(row.paid_at) is None or ctx.at < aware(row.paid_at):  # type: ignore[operator]
        changes["paid_at"] = ctx.at
    if changes:
        _counted_change(ctx, row, None, changes)
    return "applied"


def payment_reversed(ctx: Context, payment_key: str, reversed_at: datetime | None) -> None:
    """A payment was fully refunded or lost in a dispute: its contribution (if any) stops counting."""
    if not payment_key or reversed_at is None:
        return
    row = ctx.session.scalar(select(Contribution).where(Contribution.payment_intent == payment_key))
    if row is None:
        return  # not a contribution, or not recorded yet (record() reads the reversal then)
    if row.reversed_at is None or reversed_at < aware(row.reversed_at):  # type: ignore[operator]
        _counted_change(ctx, row, None, {"reversed_at": reversed_at})


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


# --- the counter ------------------------------------------------------------------------------------------

def _counted_change(ctx: Context, row: Contribution | None, new: Contribution | None,
                    changes: dict[str, Any] | None = None) -> None:
    """Insert `new`, or apply `changes` to `row`, moving the counters of the campaigns whose windows hold
    the contribution's time before or after, by the people who start or stop counting there."""
    s = ctx.session
    people = {x.person for x in (row, new) if x is not None}
    times = [aware(x.paid_at) for x in (row, new) if x is not None]
    if row is not None and changes:
        people.add(person_of(changes.get("email") or row.email, changes.get("customer_id") or row.customer_id,
                             row.payment_intent))
        times.append(changes.get("paid_at", aware(row.paid_at)))
    windows = [w for w in campaign_windows(s) if any(w[1] <= t < w[2] for t in times if t is not None)]
    before = counted(s, windows, people) if windows else set()
    if new is not None:
        s.add(new)
    elif row is not None and changes:
        for key, value in changes.items():
            setattr(row, key, value)
        row.person = person_of(row.email, row.customer_id, row.payment_intent)
        row.updated_at = ctx.now
    s.flush()
    if not windows:
        return
    after = counted(s, windows, people)
    delta = Counter(cid for cid, _ in after)
    delta.subtract(Counter(cid for cid, _ in before))
    move(s, {cid: n for cid, n in delta.items() if n}, ctx.now)


def campaign_windows(session: Session) -> list[Window]:
    t = Campaign.__table__.c
    return [(cid, aware(a), aware(b)) for cid, a, b in  # type: ignore[misc]
            session.execute(select(t.id, t.starts_at, t.ends_at).order_by(t.id))]


def counted(session: Session, windows: list[Window], people: set[str]) -> set[tuple[int, str]]:
    """(campaign, person) pairs that count: a contribution of the person in the window, not reversed."""
    out: set[tuple[int, str]] = set()
    for cid, starts, ends in windows:
        rows = session.scalars(select(Contribution.person).distinct().where(
            Contribution.person.in_(sorted(people)), Contribution.reversed_at.is_(None),
            Contribution.paid_at >= starts, Contribution.paid_at < ends))
        out.update((cid, p) for p in rows)
    return out


def move(session: Session, delta: dict[int, int], now: datetime) -> None:
    """Add to campaigns' contributor counters (campaign rows in id order: the counters' lock order)."""
    table = Campaign.__table__
    for cid in sorted(delta):
        session.execute(update(table).where(table.c.id == cid).values(
            contributors_counted=table.c.contributors_counted + delta[cid], updated_at=now))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Campaign) and obj.id in delta:
            session.expire(obj, ["contributors_counted", "updated_at"])


def recount(session: Session, campaign: Campaign, now: datetime) -> int:  # noqa: ARG001 - a recount hook
    """Rebuild a campaign's contributor counter from the contributions table (campaigns' recount calls it)."""
    value = session.scalar(select(func.count(func.distinct(Contribution.person))).where(
        Contribution.reversed_at.is_(None), Contribution.paid_at >= campaign.starts_at,
        Contribution.paid_at < campaign.ends_at))
    table = Campaign.__table__
    session.execute(update(table).where(table.c.id == campaign.id).values(contributors_counted=int(value or 0)))
    session.expire(campaign, ["contributors_counted"])
    return int(value or 0)
