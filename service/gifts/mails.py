"""The two gift mails, written to the outbox (service/mail) in the caller's transaction, keyed by the gift:
"you received a gift" to the recipient with the link that redeems it (`gift_received:gift:{id}`, and a key
of its own per staff re-send), and "thank you" to the buyer (`gift_purchased:gift:{id}`; no link: the code
is the recipient's). Templates in English and Ukrainian: service/mail/templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.gifts.models import Gift
from service.mail import member_mail
from service.paywall.settings import Settings


def redeem_url(settings: Settings, code: str) -> str:
    return f"{settings.public_base_url}/gifts/{code}"


def received(session: Session, settings: Settings, gift: Gift, code: str, now: datetime) -> bool:
    """The recipient's mail (once per delivery: `deliveries` 1 is the first, 2 the first re-send, ...)."""
    return member_mail.gift_received(
        session, gift_id=gift.id, to=gift.recipient_email, locale=gift.locale or "en", months=gift.months,
        redeem_url=redeem_url(settings, code), now=now, giver_name=gift.buyer_name or gift.buyer_email,
        message=gift.message, resend=max(0, gift.deliveries - 1))


def purchased(session: Session, gift: Gift, now: datetime) -> bool:
    """The buyer's thanks, once per gift; says the day the gift will be mailed when that is in the future."""
    if not gift.buyer_email:
        return False
    later = gift.deliver_on if gift.delivered_at is None else None
    return member_mail.gift_purchased(
        session, gift_id=gift.id, to=gift.buyer_email, locale=gift.locale or "en", months=gift.months,
        recipient_email=gift.recipient_email, now=now, recipient_name=gift.recipient_name, deliver_on=later)
