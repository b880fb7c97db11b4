"""Redeeming a gift: the code makes its recipient a member until the gift's end, once (no Flask).

The code was mailed to the recipient's address only (the buyer never sees it), so holding it proves that
address, like a sign-in link, though it lives longer and may be forwarded. Hence the token rule, in line
with checkout claims (service/members/identity.py): redeeming signs in (returns a member token) only a
member this redemption creates, i.e. an address nobody is a member with. When the address already
belongs to a member (who may have signed in, pay, or hold earlier gifts), the gift is added to that member
but no token is handed to whoever holds the code: a sign-in link goes to the member's stored address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import is_unique_violation
from service.errors import Conflict, Gone, NotFound
from service.gifts import purchases, rules
from service.gifts.models import Gift
from service.members import records
from service.members.identity import normalize_email
from service.members.models import Member
from service.members.standing import ACTIVE
from service.paywall import member_access, signin
from service.paywall.settings import Settings


class GiftNotFound(NotFound):
    type = "gift-not-found"
    title = "No such gift"


class GiftRedeemed(Conflict):
    type = "gift-redeemed"
    title = "Gift already redeemed"


class GiftRefunded(Gone):
    type = "gift-refunded"
    title = "Gift refunded"


@dataclass(frozen=True)
class Redemption:
    gift: Gift
    member: Member
    member_token: str | None  # None: a sign-in link went to the member's stored address instead


def find(session: Session, code: str | None) -> Gift:
    """The gift a code names (by its hash). Raises GiftNotFound."""
    gift = None
    if rules.well_formed(code):
        gift = session.scalar(select(Gift).where(Gift.code_hash == rules.code_hash(code or "")))
    if gift is None:
        raise GiftNotFound("This gift link is not valid. Ask the person who gave it to have it sent again.")
    return gift


def check_redeemable(gift: Gift) -> None:
    if gift.refunded_at is not None:
        raise GiftRefunded("This gift was refunded and can no longer be redeemed.")
    if gift.redeemed_at is not None:
        raise GiftRedeemed("This gift has already been redeemed.")


def redeem(session: Session, settings: Settings, code: str, now: datetime, return_url: str | None = None
           ) -> Redemption:
    """Make the gift's recipient a member until the gift ends (months added after what they have). Single
    use: the UPDATE that marks it redeemed matches only an unredeemed, unrefunded gift with this code, so
    of two concurrent redemptions one wins and the other gets 409 (its transaction rolls back)."""
    gift = find(session, code)
    check_redeemable(gift)
    member, created = _recipient(session, gift, now)
    gift_until = member.gift_until if member.gift_until is not None and member.gift_until > now else None
    starts, ends = rules.gift_period(now, gift.months, gift_until, _paid_until(member, now))
    won = session.execute(
        update(Gift).where(Gift.id == gift.id, Gift.code_hash == gift.code_hash, Gift.redeemed_at.is_(None),
                           Gift.refunded_at.is_(None))
        .values(redeemed_at=now, member_id=member.id, starts_at=starts, ends_at=ends, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(gift)
    if won != 1:
        check_redeemable(gift)
        raise GiftRedeemed("This gift has already been redeemed.")
    purchases.refresh_member(session, member, now)
    if created:
        records.verify_email(member, now)  # the mailed code proved the address
        return Redemption(gift, member, member_access.member_token(settings, member, now))
    signin.send_sign_in_link(session, settings, email=member.email, return_url=_return_url(settings, return_url),
                             now=now)
    return Redemption(gift, member, None)


def _recipient(session: Session, gift: Gift, now: datetime) -> tuple[Member, bool]:
    """The member with the recipient's address, created (pending, no customer) when there is none; a
    concurrent creation of the same address is found instead. Returns (member, created now)."""
    email = normalize_email(gift.recipient_email)
    member = session.scalar(select(Member).where(Member.email == email))
    if member is not None:
        return member, False
    try:
        with session.begin_nested():
            member = records.create(session, email=email, now=now, created_by_customer=None, plan="gift",
                                    locale=gift.locale, source="gift")
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        found = session.scalar(select(Member).where(Member.email == email))
        if found is None:
            raise
        return found, False
    return member, True


def _paid_until(member: Member, now: datetime) -> datetime | None:
    """The end of the paid period a running subscription has reached (None: nothing running)."""
    ends = [s.current_period_end for s in member.subscriptions
            if s.status in ACTIVE and s.current_period_end is not None and s.current_period_end > now]
    return max(ends) if ends else None


def _return_url(settings: Settings, url: str | None) -> str:
    if url:
        return signin.check_return_url(settings, url)
    return (settings.allowed_origins[0] if settings.allowed_origins else settings.public_base_url) + "/"
