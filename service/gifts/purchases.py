"""Gifts as payments report them: recorded once per paid Checkout Session, refunded, and the member facts a
redeemed gift gives (members/status.derive_gifts, written through members/records.py). No Flask."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.gifts.models import Gift
from service.gifts.rules import Purchase
from service.members import records
from service.members.models import Member
from service.members.status import derive_gifts
from service.payments.models import StripePayment


def record(session: Session, p: Purchase, *, at: datetime, now: datetime) -> Gift | None:
    """The gift a paid checkout bought, once per Checkout Session (INSERT ... ON CONFLICT DO NOTHING on the
    unique session id: a redelivered event, a reconciliation or a concurrent delivery adds nothing).
    Returns the new gift, or None when it was recorded before. A refund of its payment that arrived
    first (stored by payments in stripe_payments) marks it refunded at once."""
    table = Gift.__table__
    maker = pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    stmt = maker(table).values(
        **asdict(p), purchased_at=at, code_hash=None, delivered_at=None, deliveries=0,
        redeemed_at=None, member_id=None, starts_at=None, ends_at=None, refunded_at=None, refund_id="",
        created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["checkout_session_id"]).returning(table.c.id)
    gift_id = session.execute(stmt).scalar()  # (RETURNING: rowcount is -1 here on PostgreSQL)
    if gift_id is None:
        return None
    gift = session.get(Gift, gift_id)
    assert gift is not None
    if p.payment_intent:
        reversed_at = session.scalar(select(StripePayment.reversed_at).where(
            StripePayment.payment_key == p.payment_intent, StripePayment.reversed_at.is_not(None)))
        if reversed_at is not None:
            mark_refunded(session, gift, at=reversed_at, now=now)
    return gift


def mark_refunded(session: Session, gift: Gift, *, at: datetime, now: datetime, refund_id: str = "") -> bool:
    """The gift's payment came back: it can no longer be redeemed, and a redeemed one no longer grants its
    months nor counts its member (their gift facts are derived again). Returns whether anything changed."""
    if gift.refunded_at is not None:
        return False
    gift.refunded_at, gift.updated_at = at, now
    if refund_id and not gift.refund_id:
        gift.refund_id = refund_id[:255]
    session.flush()
    if gift.member_id is not None:
        member = session.get(Member, gift.member_id)
        if member is not None:
            refresh_member(session, member, now)
    return True


def refresh_member(session: Session, member: Member, now: datetime) -> None:
    """The member's gift facts from their redeemed gifts that were not refunded."""
    rows = session.execute(select(Gift.redeemed_at, Gift.ends_at).where(
        Gift.member_id == member.id, Gift.redeemed_at.is_not(None), Gift.refunded_at.is_(None))).all()
    records.apply_gift_state(member, derive_gifts([(a, e) for a, e in rows], now), now)


def by_payment(session: Session, payment_key: str) -> Gift | None:
    if not payment_key:
        return None
    return session.scalar(select(Gift).where(Gift.payment_intent == payment_key))
