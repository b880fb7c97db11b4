"""Mailing gifts: once per delivery, on the delivery day or at once, and re-sent by staff (no Flask).

A delivery is claimed by one UPDATE that only matches an undelivered, unrefunded, unredeemed gift and stores
the new code's hash with `delivered_at`; the mail is written to the outbox (service/mail) in the same
transaction, keyed by the gift. So two concurrent runs of `flask gifts deliver` (or a run and the webhook)
cannot both deliver a gift: the second UPDATE waits for the first transaction and then matches nothing, and
a mail exists exactly when its delivery committed. The outbox sends it after the commit (or `flask mail
send-pending` does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.errors import Conflict
from service.gifts import mails, purchases, rules
from service.gifts.models import Gift
from service.members.models import Member
from service.paywall.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Summary:
    due: int = 0
    delivered: int = 0
    taken: int = 0  # delivered (or redeemed, refunded) meanwhile by someone else
    ended: int = 0  # gift memberships whose period is over


def deliver(session: Session, settings: Settings, gift: Gift, now: datetime, *, again: bool = False) -> bool:
    """Mail the gift's link to the recipient with a new code (only its hash is kept). `again`: a staff
    re-send (the earlier link stops working). Returns False when the gift was not deliverable any more
    (delivered meanwhile, redeemed or refunded)."""
    code = rules.new_code()
    cond = [Gift.id == gift.id, Gift.redeemed_at.is_(None), Gift.refunded_at.is_(None)]
    if not again:
        cond.append(Gift.delivered_at.is_(None))
    claimed = session.execute(
        update(Gift).where(*cond).values(code_hash=rules.code_hash(code), delivered_at=now,
                                         deliveries=Gift.deliveries + 1, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    session.refresh(gift)
    mails.received(session, settings, gift, code, now)
    return True


def on_purchase(session: Session, settings: Settings, gift: Gift, now: datetime) -> None:
    """Right after a gift is recorded: the recipient's mail when the delivery day is today or past, and the
    buyer's thanks (saying when the gift will be mailed otherwise)."""
    if rules.is_due(gift.deliver_on, now.date()):
        deliver(session, settings, gift, now)
    mails.purchased(session, gift, now)


def resend(session: Session, settings: Settings, gift: Gift, now: datetime) -> None:
    """Staff: mail the gift (again) with a new code; the old link stops working. Only an unredeemed,
    unrefunded gift; raises Conflict otherwise."""
    if gift.refunded_at is not None or gift.redeemed_at is not None:
        raise Conflict(f"Gift {gift.id} is {gift.state}: it cannot be sent again.")
    if not deliver(session, settings, gift, now, again=True):
        raise Conflict(f"Gift {gift.id} changed meanwhile; reload and try again.")


def deliver_due(session: Session, settings: Settings, now: datetime,
                progress: Callable[[Gift, str], None] = lambda _g, _o: None) -> Summary:
    """The periodic job: mail every gift due (delivery day today or past, not delivered, refunded or
    redeemed), each in its own transaction, then end the gift memberships whose period is over. Safe to run
    twice at once, and again after a failure."""
    out = Summary()
    ids = list(session.scalars(select(Gift.id).where(
        Gift.delivered_at.is_(None), Gift.refunded_at.is_(None), Gift.redeemed_at.is_(None),
        Gift.deliver_on <= now.date()).order_by(Gift.id)))
    session.rollback()
    out.due = len(ids)
    for gift_id in ids:
        gift = session.get(Gift, gift_id)
        done = gift is not None and deliver(session, settings, gift, now)
        session.commit()
        outcome = "delivered" if done else "taken"
        setattr(out, outcome, getattr(out, outcome) + 1)
        if gift is not None:
            progress(gift, outcome)
    out.ended = end_gift_memberships(session, now)
    return out


def end_gift_memberships(session: Session, now: datetime) -> int:
    """Members whose gift period has passed get `gift_ended_at` (the count drops them in net mode unless
    they pay); one transaction per member. Returns how many ended."""
    ids = list(session.scalars(select(Member.id).where(Member.gift_until <= now, Member.gift_ended_at.is_(None))))
    session.rollback()
    for member_id in ids:
        member = session.get(Member, member_id, with_for_update=True)
        if member is not None:
            purchases.refresh_member(session, member, now)
        session.commit()
    return len(ids)
