"""Applying Stripe facts to customers, subscriptions and members, in any order.

Each handler stores what the event says about one Stripe object (newest-wins by Stripe time for
snapshots; min/max/or for facts that only accumulate), then every member it touched is re-derived
from all stored facts (service.members.rules.derive). So the result depends only on the set of events
applied, never on their order or on duplicates. Nothing here calls Stripe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from service.db import Base
from service.members import identity, rules
from service.members.models import Member, Subscription, normalize_email
from service.payments import events
from service.payments.models import MembershipInvoice, MemberStatusChange, StripeCustomer, StripePayment

log = logging.getLogger(__name__)

PLACEHOLDER_DOMAIN = "@stripe-customer.invalid"


def placeholder_email(customer_id: str) -> str:
    """Members are unique by email; until a customer's email is known its member holds this reserved
    (RFC 2606 `.invalid`) address, replaced as soon as an event tells the real one."""
    return f"{customer_id}{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return email.endswith(PLACEHOLDER_DOMAIN)


@dataclass
class Context:
    """One application: the session, the Stripe time and id of what is applied, and touched members."""

    session: Session
    now: datetime
    at: datetime  # Stripe time of the event (or of the reconciliation observation)
    event_id: str  # event id, or reconcile:<run>
    prices: dict[str, str]  # price id -> plan name
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
        if cust.email != email or cust.email_at != ctx.at:
            cust.email, cust.email_at, cust.updated_at = email, ctx.at, ctx.now


def _new_member(ctx: Context, email: str, creator: str, customer_id: str | None = None) -> Member:
    # Every counted fact set explicitly: the counter hook then sees their previous values when the
    # member is derived later in this transaction (an attribute never set has no history).
    # `creator`: the customer whose facts made the member (members/identity.py: what stands behind it).
    m = Member(email=email, status="pending", plan="", locale="", source="", token_version=1,
               first_paid_at=None, ended_at=None, first_payment_reversed_at=None,
               stripe_customer_id=customer_id, created_by_customer=creator, email_verified_at=None,
               provisional_until=None, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(m)
    ctx.session.flush()
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
                current.email, current.updated_at = cust.email, ctx.now  # rename: the person's address
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
        if identity.merge_revokes_tokens(target.created_by_customer, target.email_verified_at, cust.customer_id):
            target.token_version = (target.token_version or 1) + 1  # tokens a claim issued for its creator
    _link_customer_id(s, target, cust.customer_id, None if holder_unknown else current)
    return target


def _link_customer_id(s: Session, member: Member, customer_id: str, holder: Member | None = _UNKNOWN) -> None:
    """`members.stripe_customer_id` (unique; the billing portal opens it) names one customer of the member.
    Only the customer that created the member takes it here: another one with the member's email (the
    same person for counting, or someone who typed their address) waits until the member signs in with a
    link (paywall/claims.py adopts it then). A customer that moved to another member leaves its old
    holder. `holder`: the member that holds the id, when the caller has just read it."""
    if member.stripe_customer_id == customer_id:
        return
    if holder is _UNKNOWN:
        holder = s.scalar(select(Member).where(Member.stripe_customer_id == customer_id))
    if holder is not None and holder.id != member.id:
        holder.stripe_customer_id = None
        s.flush()
    if member.stripe_customer_id is None and identity.takes_customer_of_record(member.created_by_customer,
                                                                                customer_id):
        member.stripe_customer_id = customer_id


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
    """What `member_state` / `rules.derive` read of a subscription (last_event_at only matters for an
    ended one). Equal before and after an event: the member's derived state cannot have changed."""
    ended = rules.membership_status(sub.status) == "ended"
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
    if rules.is_newer(ctx.at, snap.status, ctx.event_id, sub.last_event_at, sub.stripe_status, sub.last_event_id):
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
    status = rules.effective_status(sub.stripe_status, sub.last_event_at, sub.payment_failed_at,
                                    _aware(last_paid) if last_paid is not None else None)
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


# --- members ---------------------------------------------------------------------------------------------

_SUB_FACTS = (Subscription.stripe_id, Subscription.status, Subscription.plan, Subscription.stripe_created_at,
              Subscription.ended_at, Subscription.canceled_at, Subscription.last_event_at, Subscription.locale,
              Subscription.source)


def member_state(s: Session, member_id: int) -> rules.MemberState:
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
    return rules.derive(
        [rules.SubscriptionFacts(*row) for row in subs],
        [rules.InvoiceFacts(i, paid_at, _aware(at) if at is not None else None, sub_id or "")
         for i, paid_at, at, sub_id in invoices],
    )


def _aware(value: datetime) -> datetime:
    from service.db import UTCDateTime

    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


def recompute(ctx: Context, member: Member) -> dict[str, tuple[Any, Any]]:
    """Bring a member in line with the facts; history row on a status change; token_version bumped when
    membership is lost. Attribute assignment only, so the campaign counters follow (flush hook)."""
    state = member_state(ctx.session, member.id)
    had = member.status in rules.LIVE_STATUSES and member.first_payment_reversed_at is None
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in (("status", state.status), ("first_paid_at", state.first_paid_at),
                        ("first_payment_reversed_at", state.first_payment_reversed_at),
                        ("ended_at", state.ended_at), ("plan", state.plan[:64]), ("locale", state.locale[:35]),
                        ("source", state.source[:200])):
        if getattr(member, name) != value:
            changes[name] = (getattr(member, name), value)
            setattr(member, name, value)
    if "status" in changes:
        ctx.session.add(MemberStatusChange(member_id=member.id, from_status=changes["status"][0],
                                           to_status=state.status, at=ctx.at, stripe_event_id=ctx.event_id[:255],
                                           recorded_at=ctx.now))
    if had and not state.has_membership:
        member.token_version = (member.token_version or 1) + 1
    if changes:
        member.updated_at = ctx.now
    return changes


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
        if member is not None and _unreferenced(s, member_id):
            # A member merged into another (same person): its history goes along, then it is removed.
            s.execute(update(MemberStatusChange).where(MemberStatusChange.member_id == member_id)
                      .values(member_id=successor))
            s.delete(member)
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


def _unreferenced(s: Session, member_id: int) -> bool:
    """No row of any table (other features' included) refers to the member: safe to delete."""
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "members" or fk.column.name != "id":
                continue
            if table.name == "member_status_changes":
                continue
            if _exists(s, table, fk.parent.name, member_id):
                return False
    return True


def _exists(s: Session, table: Table, column: str, value: int) -> bool:
    return s.execute(select(table.c[column]).where(table.c[column] == value).limit(1)).first() is not None
