"""Applying Stripe facts to customers, subscriptions and members, in any order.

Each handler stores what the event says about one Stripe object (newest-wins by Stripe time for
snapshots; min/max/or for facts that only accumulate), then every member it touched is re-derived
from all stored facts (service.payments.facts turns them into membership facts, service.members.status
derives the state, service.members.records writes it). So the result depends only on the set of events
applied, never on their order or on duplicates. Nothing here calls Stripe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.db import aware
from service.members import records, tombstones
from service.members.identity import is_placeholder, normalize_email, placeholder_email
from service.members.models import Member, Subscription
from service.members.status import MemberState, derive
from service.payments import events, facts
from service.payments.models import MembershipInvoice, StripeCustomer, StripePayment

log = logging.getLogger(__name__)


@dataclass
class Context:
    """One application: the session, the Stripe time and id of what is applied, and touched members."""

    session: Session
    now: datetime
    at: datetime  # Stripe time of the event (or of the reconciliation observation)
    event_id: str  # event id, or reconcile:<run>
    prices: dict[str, str]  # price id -> plan name
    erasure_key: bytes = b""  # HMAC key of email tombstones (members/tombstones.py)
    touched: set[int] = field(default_factory=set)
    vacated: dict[int, int] = field(default_factory=dict)  # member left by a customer -> where it went
    # Members loaded by this application, held strongly: the session's identity map is weak, so an
    # unmodified member would otherwise be dropped and read again by finish().
    members: dict[int, Member] = field(default_factory=dict)
    # Subscriptions this application may change, with what `derive` read of them before: a member is
    # derived again only when one of its inputs changed (see `derive_inputs`).
    subs: dict[str, tuple[Subscription, tuple[Any, ...] | None]] = field(default_factory=dict)

    def track(self, sub: Subscription, *, new: bool = False) -> Subscription:
        if sub.stripe_id not in self.subs:
            self.subs[sub.stripe_id] = (sub, None if new else derive_inputs(sub))
        return sub

    def member(self, member_id: int) -> Member | None:
        m = self.members.get(member_id)
        if m is None:
            m = self.session.get(Member, member_id)
            if m is not None:
                self.members[member_id] = m
        return m

    def keep(self, member: Member | None) -> Member | None:
        if member is not None and member.id is not None:
            self.members[member.id] = member
        return member

    def plan_for(self, price_ids: list[str]) -> tuple[str, str] | None:
        for price in price_ids:
            if price in self.prices:
                return self.prices[price], price
        return None


# --- customers and members -------------------------------------------------------------------------------

def get_customer(ctx: Context, customer_id: str) -> StripeCustomer:
    s = ctx.session
    # The customer and its member in one query (place() needs both).
    row = s.execute(select(StripeCustomer, Member).outerjoin(Member, Member.id == StripeCustomer.member_id)
                    .where(StripeCustomer.customer_id == customer_id)).first()
    cust = None
    if row is not None:
        cust = row[0]
        ctx.keep(row[1])
    if cust is None:
        cust = StripeCustomer(customer_id=customer_id, email="", email_at=None, member_id=None,
                              created_at=ctx.now, updated_at=ctx.now)
        s.add(cust)  # inserted by the next flush, with the email learned meanwhile (one statement)
    return cust


def learn_email(ctx: Context, cust: StripeCustomer, email: str | None) -> None:
    """Newest (by Stripe time, then by value for determinism) email of a customer wins."""
    email = normalize_email(email or "")
    if not email or len(email) > 320 or "@" not in email:
        return
    if cust.email_at is None or (ctx.at, email) > (cust.email_at, cust.email):
        if cust.email != email and tombstones.erased(ctx.session, ctx.erasure_key, customer_id=cust.customer_id,
                                                     email=email, at=ctx.at):
            # an erased person: their money facts apply, their address does not come back (and the ledger
            # stores such an event without its body: ledger.erased_body)
            return
        if cust.email != email or cust.email_at != ctx.at:
            cust.email, cust.email_at, cust.updated_at = email, ctx.at, ctx.now


def _new_member(ctx: Context, email: str, creator: str, customer_id: str | None = None) -> Member:
    m = records.create(ctx.session, email=email, now=ctx.now, created_by_customer=creator,
                       stripe_customer_id=customer_id)
    ctx.keep(m)
    return m


_UNKNOWN: Any = object()


def place(ctx: Context, cust: StripeCustomer, need_member: bool) -> Member | None:
    """The member a customer belongs to: the one with the customer's email (one member per person,
    whatever the number of customers); a placeholder member while the email is unknown. Moves the
    customer (and its subscriptions) when its email now names another member."""
    s = ctx.session
    current = ctx.member(cust.member_id) if cust.member_id else None
    if current is None and not need_member:
        return None
    holder_unknown = True  # whether we know which member holds members.stripe_customer_id = this customer
    by_email: Member | None = _UNKNOWN
    if current is None:
        # A member may exist for this customer already (the paywall's checkout claim); read it and the
        # member of the customer's email in one query.
        cond = Member.stripe_customer_id == cust.customer_id
        found = list(s.scalars(select(Member).where(or_(cond, Member.email == cust.email) if cust.email else cond)))
        for m in found:
            ctx.keep(m)
        current = next((m for m in found if m.stripe_customer_id == cust.customer_id), None)
        by_email = next((m for m in found if cust.email and m.email == cust.email), None)
        holder_unknown = False
    # New members take the customer id at once when nobody holds it (saves an UPDATE).
    free_id = cust.customer_id if not holder_unknown and current is None else None
    if cust.email:
        if current is not None and current.email == cust.email:
            target = current  # (emails are unique: the query below would find this member)
        elif by_email is not _UNKNOWN:
            target = by_email
        else:
            target = ctx.keep(s.scalar(select(Member).where(Member.email == cust.email)))
        if target is None:
            if current is not None and (is_placeholder(current.email) or not _shared(s, current, cust)):
                records.rename(current, cust.email, ctx.now)  # the person's address
                target = current
            else:
                target = _new_member(ctx, cust.email, cust.customer_id, free_id)
    else:
        target = current or _new_member(ctx, placeholder_email(cust.customer_id), cust.customer_id, free_id)
    if current is not None and current.id != target.id:
        ctx.touched.add(current.id)
        ctx.vacated[current.id] = target.id
        s.flush()
        for sub in s.scalars(select(Subscription).where(Subscription.customer_id == cust.customer_id)):
            sub.member_id, sub.updated_at = target.id, ctx.now
    if cust.member_id != target.id:
        # The customer's facts (subscriptions, invoices) now belong to `target`: derive it again.
        cust.member_id, cust.updated_at = target.id, ctx.now
        ctx.touched.add(target.id)
        records.join_customer(target, cust.customer_id)
    records.link_customer(s, target, cust.customer_id, None if holder_unknown else current)
    return target


def _shared(s: Session, member: Member, cust: StripeCustomer) -> bool:
    """Whether another customer of this member still has the member's email."""
    return s.scalar(select(func.count(StripeCustomer.id)).where(
        StripeCustomer.member_id == member.id, StripeCustomer.customer_id != cust.customer_id,
        StripeCustomer.email == member.email)) > 0


def touch_invoice(ctx: Context, invoice_id: str) -> None:
    """Derive again the member whose customer the (paid membership) invoice belongs to: one query."""
    if not invoice_id:
        return
    member_id = ctx.session.scalar(
        select(StripeCustomer.member_id)
        .join(MembershipInvoice, MembershipInvoice.customer_id == StripeCustomer.customer_id)
        .where(MembershipInvoice.invoice_id == invoice_id))
    if member_id:
        ctx.touched.add(member_id)


# --- subscriptions -------------------------------------------------------------------------------------

def derive_inputs(sub: Subscription) -> tuple[Any, ...]:
    """What `member_state` / `derive` read of a subscription (last_event_at only matters for an ended
    one). Equal before and after an event: the member's derived state cannot have changed."""
    ended = facts.membership_status(sub.status) == "ended"
    return (sub.member_id, sub.status, sub.plan, sub.stripe_created_at, sub.ended_at, sub.canceled_at,
            sub.locale, sub.source, sub.last_event_at if ended else None)


def find_subscription(ctx: Context, stripe_id: str) -> Subscription | None:
    sub = ctx.subs.get(stripe_id)
    if sub is not None:
        return sub[0]
    # No autoflush: a subscription created in this application is in ctx.subs, and nothing pending
    # changes which row has this stripe_id (pending changes then go out in fewer, larger flushes).
    with ctx.session.no_autoflush:
        found = ctx.session.scalar(select(Subscription).where(Subscription.stripe_id == stripe_id))
    return ctx.track(found) if found is not None else None


def get_subscription(ctx: Context, stripe_id: str, cust: StripeCustomer, member: Member, *,
                     refresh: bool = True) -> Subscription:
    """The subscription, created if unknown. `refresh=False` when the caller stores a snapshot next
    (which refreshes the status itself)."""
    s = ctx.session
    sub = find_subscription(ctx, stripe_id)
    if sub is None:
        sub = Subscription(stripe_id=stripe_id, member_id=member.id, customer_id=cust.customer_id,
                           status="incomplete", stripe_status="", price_id="", plan="",
                           cancel_at_period_end=False, last_event_id="", campaign="", locale="", source="",
                           reader_id="", created_at=ctx.now, updated_at=ctx.now)
        s.add(sub)
        ctx.track(sub, new=True)
        if refresh:
            refresh_status(ctx, sub)  # invoice facts may be known before the subscription
    else:
        if sub.customer_id != cust.customer_id:
            sub.customer_id = cust.customer_id
        if sub.member_id != member.id:
            sub.member_id = member.id
    return sub


SNAPSHOT_FIELDS = ("stripe_status", "price_id", "plan", "current_period_end", "cancel_at_period_end",
                   "canceled_at", "ended_at")


def observe_subscription(ctx: Context, sub: Subscription, snap: events.SubscriptionSnapshot, plan: str
                         ) -> dict[str, tuple[Any, Any]]:
    """Store a snapshot if it is newer than the one stored; returns the fields it changed."""
    changes: dict[str, tuple[Any, Any]] = {}
    if facts.is_newer(ctx.at, snap.status, ctx.event_id, sub.last_event_at, sub.stripe_status, sub.last_event_id):
        new = {"stripe_status": snap.status, "price_id": snap.price_id, "plan": plan,
               "current_period_end": snap.current_period_end, "cancel_at_period_end": snap.cancel_at_period_end,
               "canceled_at": snap.canceled_at, "ended_at": snap.ended_at}
        for name, value in new.items():
            if getattr(sub, name) != value:
                changes[name] = (getattr(sub, name), value)
                setattr(sub, name, value)
        sub.last_event_at, sub.last_event_id = ctx.at, ctx.event_id
        if changes:
            sub.updated_at = ctx.now
    refresh_status(ctx, sub, changes)
    return changes


def refresh_status(ctx: Context, sub: Subscription, changes: dict[str, tuple[Any, Any]] | None = None) -> None:
    ctx.track(sub)
    last_paid = None
    if sub.stripe_status in ("", "incomplete") or sub.payment_failed_at is not None:
        # (effective_status reads the last paid invoice only in these cases: skip the query otherwise)
        last_paid = ctx.session.scalar(select(func.max(MembershipInvoice.paid_at))
                                       .where(MembershipInvoice.subscription_id == sub.stripe_id))
    status = facts.effective_status(sub.stripe_status, sub.last_event_at, sub.payment_failed_at, aware(last_paid))
    if sub.status != status:
        if changes is not None:
            changes["status"] = (sub.status, status)
        sub.status, sub.updated_at = status, ctx.now


def fill_attribution(sub: Subscription, metadata: Any, plan_hint: str = "") -> None:
    """Attribution is set when first known (checkout session and subscription carry the same values)."""
    attr = events.attribution(metadata)
    for name, value in (("campaign", attr["campaign"][:64]), ("locale", attr["locale"][:35]),
                        ("source", attr["source"][:200]), ("reader_id", attr["reader_id"][:255])):
        if value and not getattr(sub, name):
            setattr(sub, name, value)
    if plan_hint and not sub.plan:
        sub.plan = plan_hint
    arm = attr["variant"]  # the experiment arm (campaigns/experiments.py; 0: the control)
    if sub.variant_id is None and arm.isascii() and arm.isdigit() and len(arm) <= 9:
        sub.variant_id = int(arm)


# --- members ---------------------------------------------------------------------------------------------

_SUB_FACTS = (Subscription.stripe_id, Subscription.status, Subscription.plan, Subscription.stripe_created_at,
              Subscription.ended_at, Subscription.canceled_at, Subscription.last_event_at, Subscription.locale,
              Subscription.source)


def member_state(s: Session, member_id: int) -> MemberState:
    """All facts of a member in two queries: its subscriptions; the paid invoices of its customers, each
    with the earliest reversal of a payment of it (columns only: no ORM objects to build)."""
    subs = s.execute(select(*_SUB_FACTS).where(Subscription.member_id == member_id)).all()
    reversed_at = func.min(StripePayment.reversed_at)
    inv = MembershipInvoice
    invoices = s.execute(
        select(inv.invoice_id, inv.paid_at, reversed_at, inv.subscription_id)
        .outerjoin(StripePayment, and_(StripePayment.invoice_id == MembershipInvoice.invoice_id,
                                       StripePayment.reversed_at.is_not(None)))
        .where(MembershipInvoice.customer_id.in_(
            select(StripeCustomer.customer_id).where(StripeCustomer.member_id == member_id).scalar_subquery()))
        .group_by(inv.invoice_id, inv.paid_at, inv.subscription_id)).all()
    return derive([facts.subscription_facts(*row) for row in subs],
                  [facts.invoice_facts(i, paid_at, aware(at), sub_id) for i, paid_at, at, sub_id in invoices])


def recompute(ctx: Context, member: Member) -> dict[str, tuple[Any, Any]]:
    """Bring a member in line with the facts (members/records.py apply_state: history row on a status
    change, token_version bumped when membership is lost)."""
    return records.apply_state(ctx.session, member, member_state(ctx.session, member.id), at=ctx.at, now=ctx.now,
                               cause=ctx.event_id)


def finish(ctx: Context) -> dict[int, dict[str, tuple[Any, Any]]]:
    """Drop members emptied by a merge; re-derive every touched member (in id order: a consistent lock
    order). Returns the changes per member id."""
    s = ctx.session
    for sub, before in ctx.subs.values():
        after = derive_inputs(sub)
        if after != before:
            ctx.touched.add(sub.member_id)
            if before is not None:
                ctx.touched.add(before[0])
    s.flush()
    for member_id, successor in sorted(ctx.vacated.items()):
        member = ctx.member(member_id)
        if member is not None and records.merge(s, member, successor):
            ctx.touched.discard(member_id)
    s.flush()
    out = {}
    for member_id in sorted(ctx.touched):
        member = ctx.member(member_id)
        if member is None:
            continue
        changes = recompute(ctx, member)
        if changes:
            out[member_id] = changes
    s.flush()
    return out

