"""Every write of a member row (`members` and its status history `member_status_changes`), on a
SQLAlchemy session; no Flask.

Payments (placing a Stripe customer, applying a derived state, merging), the paywall (checkout claims,
sign-in by link, sign-out everywhere) and the demo seeder write members only through these functions.
ORM attribute assignment throughout, so the campaign counters' flush hook sees every change
(service/campaigns/counter.py); only the seeder's bulk insert bypasses it, and recounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.db import Base
from service.mail import member_mail
from service.members import identity, tombstones
from service.members.models import Member, MemberStatusChange, Subscription
from service.members.status import GiftState, MemberState, has_membership

_UNKNOWN: Any = object()


def create(session: Session, *, email: str, now: datetime, created_by_customer: str | None,
           stripe_customer_id: str | None = None, provisional_until: datetime | None = None,
           plan: str = "", locale: str = "", source: str = "") -> Member:
    """A new member, `pending` until derived from facts; flushed (a taken email or customer id raises the
    IntegrityError here). Every counted fact is set explicitly: the counter hook then sees their previous
    values when the member is derived later in this transaction (an attribute never set has no history).
    `created_by_customer`: the customer whose facts made the member (identity.py: what stands behind it)."""
    member = Member(email=email, status="pending", plan=plan[:64], locale=locale[:35], source=source[:200],
                    token_version=1, first_paid_at=None, ended_at=None, first_payment_reversed_at=None,
                    stripe_customer_id=stripe_customer_id, created_by_customer=created_by_customer,
                    email_verified_at=None, provisional_until=provisional_until, gift_redeemed_at=None,
                    gift_until=None, gift_ended_at=None, created_at=now, updated_at=now)
    session.add(member)
    session.flush()
    return member


def insert_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Member rows (column values) in one executemany, bypassing the ORM and its flush hook: the caller
    rebuilds the campaign counters afterwards (the demo seeder)."""
    session.execute(insert(Member.__table__), rows)


def rename(member: Member, email: str, now: datetime) -> None:
    """The member's address is now `email` (normalised; its placeholder replaced, or the person's new one)."""
    member.email, member.updated_at = email, now


def revoke_tokens(member: Member, now: datetime | None = None) -> None:
    """Every member token issued so far stops working (a token carries the version it was issued at)."""
    member.token_version = (member.token_version or 1) + 1
    if now is not None:
        member.updated_at = now


def join_customer(member: Member, customer_id: str) -> None:
    """Another customer's facts now belong to the member: tokens a claim issued for its creator are revoked
    when the merge rule says so (identity.merge_revokes_tokens)."""
    if identity.merge_revokes_tokens(member.created_by_customer, member.email_verified_at, customer_id):
        revoke_tokens(member)


def link_customer(session: Session, member: Member, customer_id: str, holder: Member | None = _UNKNOWN) -> None:
    """`members.stripe_customer_id` (unique; the billing portal opens it) names one customer of the member.
    Only the customer that created the member takes it here: another one with the member's email (the
    same person for counting, or someone who typed their address) waits until the member signs in with a
    link (`verify_email`, then `set_customer_of_record`). A customer that moved to another member leaves
    its old holder. `holder`: the member that holds the id, when the caller has just read it."""
    if member.stripe_customer_id == customer_id:
        return
    if holder is _UNKNOWN:
        holder = session.scalar(select(Member).where(Member.stripe_customer_id == customer_id))
    if holder is not None and holder.id != member.id:
        holder.stripe_customer_id = None
        session.flush()
    if member.stripe_customer_id is None and identity.takes_customer_of_record(member.created_by_customer,
                                                                                customer_id):
        member.stripe_customer_id = customer_id


def verify_email(member: Member, now: datetime) -> None:
    """A sign-in link proved the member reads their address. The first time, tokens a checkout claim may
    have issued are revoked (from now on only links sign them in)."""
    if member.email_verified_at is None:
        if identity.may_hold_claim_tokens(member.created_by_customer, None):
            revoke_tokens(member)
        member.email_verified_at = now
        member.updated_at = now


def set_customer_of_record(member: Member, customer_id: str | None, now: datetime) -> None:
    """The customer the billing portal opens (chosen by identity.customer_to_adopt)."""
    if customer_id != member.stripe_customer_id:
        member.stripe_customer_id, member.updated_at = customer_id, now


def apply_state(session: Session, member: Member, state: MemberState, *, at: datetime, now: datetime,
                cause: str) -> dict[str, tuple[Any, Any]]:
    """Bring a member in line with the state derived from its facts; a history row on a status change
    (`at`: when it happened, `cause`: what caused it, e.g. a Stripe event id); token_version bumped when
    membership is lost. Returns the changed fields (name -> (before, after))."""
    had = has_membership(member.status, member.first_payment_reversed_at)
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in (("status", state.status), ("first_paid_at", state.first_paid_at),
                        ("first_payment_reversed_at", state.first_payment_reversed_at),
                        ("ended_at", state.ended_at), ("plan", state.plan[:64]), ("locale", state.locale[:35]),
                        ("source", state.source[:200])):
        if getattr(member, name) != value:
            changes[name] = (getattr(member, name), value)
            setattr(member, name, value)
    if "status" in changes:
        session.add(MemberStatusChange(member_id=member.id, from_status=changes["status"][0],
                                       to_status=state.status, at=at, cause=cause[:255], recorded_at=now))
    if had and not state.has_membership:
        revoke_tokens(member)
    if changes:
        member.updated_at = now
        member_mail.state_changed(session, member, changes, at=at, now=now)  # welcome, ended: the outbox
    return changes


def apply_gift_state(member: Member, state: GiftState, now: datetime) -> dict[str, tuple[Any, Any]]:
    """Bring a member's gift facts in line with their redeemed gifts (status.derive_gifts): a redemption,
    a refund of a redeemed gift, or the gift period passing. Returns the changed fields."""
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in (("gift_redeemed_at", state.redeemed_at), ("gift_until", state.until),
                        ("gift_ended_at", state.ended_at)):
        if getattr(member, name) != value:
            changes[name] = (getattr(member, name), value)
            setattr(member, name, value)
    if changes:
        member.updated_at = now
    return changes


def erase(session: Session, member: Member, now: datetime) -> str:
    """The person's personal data leaves the member row (erasure, service/privacy): the address becomes a
    reserved placeholder, the reader ids of its subscriptions are blanked, checkout trust is dropped (no
    claim signs the row in again) and every token is revoked. The counting facts (first_paid_at, ended_at,
    first_payment_reversed_at, plan, locale, source) and the status history stay, so the campaign counters
    and roll-ups do not move. Returns the erased address."""
    erased = member.email
    member.email = tombstones.erased_email(member.id)
    member.created_by_customer, member.provisional_until = None, None
    revoke_tokens(member, now)
    session.execute(update(Subscription).where(Subscription.member_id == member.id, Subscription.reader_id != "")
                    .values(reader_id="", updated_at=now))
    session.flush()
    return erased


def merge(session: Session, member: Member, into_id: int) -> bool:
    """A member merged into another (the same person): once no row of any table refers to it, its status
    history goes along to `into_id` and it is removed. Returns whether it was removed."""
    if not _unreferenced(session, member.id):
        return False
    session.execute(update(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
                    .values(member_id=into_id))
    session.delete(member)
    return True


def _unreferenced(session: Session, member_id: int) -> bool:
    """No row of any table (other features' included) refers to the member: safe to delete."""
    for table in Base.metadata.sorted_tables:
        if table.name == MemberStatusChange.__tablename__:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != Member.__tablename__ or fk.column.name != "id":
                continue
            column = table.c[fk.parent.name]
            if session.execute(select(column).where(column == member_id).limit(1)).first() is not None:
                return False
    return True
