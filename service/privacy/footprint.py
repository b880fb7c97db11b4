"""A member's footprint: every identifier that names them, and every row of every table that holds one
(no Flask). Export and erasure both start here, so what one finds the other removes.

Tables are read from the model metadata, not from a list: a column names the person by its name —
an address (`email`, `*_email`, `to_addr`), the member (`member_id`, `*_member_id`), a Stripe customer
(`*customer*`), a reader (`reader_id`), a subscription or invoice of theirs (`subscription_id`,
`invoice_id`), or a contributor key (`person`: `email:<address>` / `customer:<id>`). So a table another
feature adds later is found without changes here. Ledger rows (`webhook_events`) name their Stripe object
(`object_id`) or carry the address or a customer id in the raw body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, func, or_, select
from sqlalchemy.orm import Session

from service.db import Base
from service.members.models import Member, Subscription

LEDGER = "webhook_events"
# Never exported: hashes of live bearer secrets and sender bookkeeping.
HIDDEN_COLUMNS = frozenset({"token_hash", "code_hash", "password_hash", "lease_owner", "lease_until"})


def column_kind(name: str) -> str | None:
    """Which identifier a column holds, by its name (None: none)."""
    if name == "email" or name.endswith("_email") or name == "to_addr":
        return "emails"
    if name == "member_id" or name.endswith("_member_id"):
        return "members"
    if "customer" in name:
        return "customers"
    return {"reader_id": "readers", "subscription_id": "subscriptions", "invoice_id": "invoices",
            "person": "persons"}.get(name)


@dataclass
class Footprint:
    member: Member
    emails: set[str] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    readers: set[str] = field(default_factory=set)
    subscriptions: set[str] = field(default_factory=set)
    invoices: set[str] = field(default_factory=set)

    @property
    def persons(self) -> set[str]:
        return {f"email:{e}" for e in self.emails} | {f"customer:{c}" for c in self.customers}

    def values(self, kind: str) -> set[Any]:
        return getattr(self, kind)


def of(session: Session, member: Member) -> Footprint:
    """The identifiers of a member: its address, id, Stripe customers (linked, of its subscriptions, of
    record, its creator, and any with its address), reader ids of its checkouts, subscriptions, invoices."""
    fp = Footprint(member=member, emails={member.email}, members={member.id})
    subs = session.execute(select(Subscription.stripe_id, Subscription.customer_id, Subscription.reader_id)
                           .where(Subscription.member_id == member.id)).all()
    fp.subscriptions = {s for s, _, _ in subs}
    fp.readers = {r for _, _, r in subs if r}
    fp.customers = {c for _, c, _ in subs if c} | {c for c in (member.stripe_customer_id,
                                                               member.created_by_customer) if c}
    customers = table("stripe_customers")
    if customers is not None:
        fp.customers |= set(session.scalars(select(customers.c.customer_id).where(
            or_(customers.c.member_id == member.id, customers.c.email == member.email))))
    invoices = table("membership_invoices")
    if invoices is not None and fp.customers:
        fp.invoices = set(session.scalars(select(invoices.c.invoice_id)
                                          .where(invoices.c.customer_id.in_(sorted(fp.customers)))))
    return fp


def table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def personal_columns(t: Table) -> list[tuple[Column[Any], str]]:
    return [(c, kind) for c in t.columns if (kind := column_kind(c.name)) is not None]


def condition(t: Table, fp: Footprint) -> ColumnElement[bool] | None:
    """Rows of `t` that name the member (None: the table cannot name anyone)."""
    if t.name == LEDGER:
        return ledger_condition(t, fp)
    terms = [c.in_(sorted(fp.values(kind))) for c, kind in personal_columns(t) if fp.values(kind)]
    return or_(*terms) if terms else None


def ledger_condition(t: Table, fp: Footprint) -> ColumnElement[bool]:
    """Stripe events about the member's objects, or whose raw body carries their address or a customer id."""
    objects = sorted(fp.customers | fp.subscriptions | fp.invoices)
    body = func.lower(t.c.payload)
    terms: list[ColumnElement[bool]] = [t.c.object_id.in_(objects)] if objects else []
    terms += [body.contains(e.lower(), autoescape=True) for e in fp.emails]
    terms += [t.c.payload.contains(f'"{c}"', autoescape=True) for c in sorted(fp.customers)]
    return or_(*terms)


def tables_naming(fp: Footprint) -> list[tuple[Table, ColumnElement[bool]]]:
    """Every table that can name the member, with the condition of its rows that do (dependency order)."""
    out = []
    for t in Base.metadata.sorted_tables:
        cond = condition(t, fp)
        if cond is not None:
            out.append((t, cond))
    return out
