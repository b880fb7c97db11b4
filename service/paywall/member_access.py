"""The paywall's view of a member: who a member token names, their standing and summary, signing out everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from service.errors import NotFound, Unauthorized
from service.members.identity import normalize_email
from service.members.models import Member, Subscription
from service.members.standing import Standing, Sub, membership
from service.paywall import tokens
from service.paywall.settings import Settings

if TYPE_CHECKING:
    from service.paywall.member_cache import MemberFacts, SubFacts


def load_member(session: Session, member_id: int) -> Member | None:
    """The member and all their subscriptions in one round trip (primary key + indexed join)."""
    return session.scalars(
        select(Member).options(joinedload(Member.subscriptions)).where(Member.id == member_id)
    ).unique().one_or_none()


def member_from_token(session: Session, settings: Settings, token: str | None, now: datetime) -> Member | None:
    """The member a token names, if it is valid, unexpired and of the member's current token version."""
    claim = tokens.read_member_token(settings.secret, token, now, settings.member_token_max_age)
    if claim is None:
        return None
    member = load_member(session, claim.member_id)
    if member is None or member.token_version != claim.version:
        return None
    return member


def require_member(session: Session, settings: Settings, token: str | None, now: datetime) -> Member:
    member = member_from_token(session, settings, token, now)
    if member is None:
        raise Unauthorized("A valid member token is required (Authorization: Bearer <member token>).")
    return member


def member_token(settings: Settings, member: Member, now: datetime) -> str:
    return tokens.issue_member_token(settings.secret, member.id, member.token_version, now)


def standing_of(member: Member | MemberFacts, settings: Settings, now: datetime) -> Standing:
    subs = [Sub(s.status, s.current_period_end, bool(s.cancel_at_period_end),
                getattr(s, "payment_failed_at", None)) for s in member.subscriptions]
    return membership(subs, member_status=member.status, first_paid_at=member.first_paid_at, now=now,
                      grace_days=settings.grace_days, provisional_until=member.provisional_until,
                      gift_until=member.gift_until)


SUB_RANK = {"active": 4, "trialing": 4, "past_due": 3, "canceled": 2}


def current_subscription(member: Member | MemberFacts) -> Subscription | SubFacts | None:
    """The subscription that best describes the membership: live ones first, then the latest period."""
    if not member.subscriptions:
        return None
    def key(s: Subscription | SubFacts) -> tuple:
        end = s.current_period_end.timestamp() if s.current_period_end else float("-inf")
        return SUB_RANK.get(s.status, 0), end

    return max(member.subscriptions, key=key)


def member_summary(member: Member | MemberFacts, *, with_email: bool = False) -> dict[str, Any]:
    sub = current_subscription(member)
    out: dict[str, Any] = {
        "id": member.id,
        "status": sub.status if sub else member.status,
        "plan": (sub.plan if sub and sub.plan else member.plan) or None,
        "current_period_end": sub.current_period_end if sub else None,
        "cancel_at_period_end": bool(sub.cancel_at_period_end) if sub else False,
        "gift_ends_at": member.gift_until,
    }
    if with_email:
        out["email"] = member.email
    return out


def member_by_email(session: Session, email: str) -> Member:
    member = session.scalar(select(Member).where(Member.email == normalize_email(email)))
    if member is None:
        raise NotFound("No member with that email.")
    return member
