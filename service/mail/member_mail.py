"""Which fact causes which mail, and its key (no Flask): the explicit calls that member records, payments,
the paywall's sign-in and gifts make in their own transaction.

A key names the fact, never the delivery that reported it: `welcome:member:{id}` (the first payment),
`ended:member:{id}:{ended_at}` (each time a membership ends), `payment_failed:invoice:{id}` (a renewal
invoice, however often Stripe retries it), `sign_in:link:{id}`, `gift_received:gift:{id}`,
`gift_purchased:gift:{id}`, `erasure_confirm:request:{id}`. No mail goes to a placeholder address (a customer
whose email is not known yet).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.mail.outbox import enqueue
from service.members.identity import is_placeholder
from service.members.models import Member
from service.members.status import LIVE_STATUSES, has_membership


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def state_changed(session: Session, member: Member, changes: dict[str, tuple[Any, Any]], *, at: datetime,
                  now: datetime) -> None:
    """After records.apply_state changed a member: welcome on the first payment, goodbye (with the way back)
    when a live membership ended."""
    if not changes or is_placeholder(member.email):
        return
    paid = changes.get("first_paid_at")
    if paid and paid[0] is None and paid[1] is not None and has_membership(member.status,
                                                                           member.first_payment_reversed_at):
        enqueue(session, key=f"welcome:member:{member.id}", kind="welcome", to=member.email, now=now,
                locale=member.locale, member_id=member.id, context={"plan": member.plan})
    status = changes.get("status")
    if status and status[0] in LIVE_STATUSES and status[1] == "ended":
        ended_at = member.ended_at or at
        enqueue(session, key=f"ended:member:{member.id}:{_stamp(ended_at)}", kind="ended", to=member.email,
                now=now, locale=member.locale, member_id=member.id,
                context={"plan": member.plan, "ended_at": ended_at})


def payment_failed(session: Session, member: Member, *, invoice_id: str, subscription_status: str,
                   failed_at: datetime, now: datetime) -> None:
    """A renewal payment failed and the subscription is past due (not when a later payment or snapshot
    already settled it): the member is told, once per invoice, until when they keep access and where to
    update their card (the site's account page: it signs them in first, then opens the billing portal)."""
    if subscription_status != "past_due" or not invoice_id or is_placeholder(member.email):
        return
    enqueue(session, key=f"payment_failed:invoice:{invoice_id}", kind="payment_failed", to=member.email, now=now,
            locale=member.locale, member_id=member.id,
            context={"plan": member.plan, "invoice_id": invoice_id, "failed_at": failed_at})


def sign_in(session: Session, *, link_id: int, to: str, locale: str, link: str | None, minutes: int,
            expires_at: datetime, now: datetime, member_id: int | None = None) -> None:
    """The mail of one sign-in link request: the link for a member (`link`), else a note that no membership
    has this address, with the way to join (`link` None). Same work on both paths."""
    kind = "sign_in" if link else "sign_in_unknown"
    context = {"link": link, "minutes": minutes} if link else {}
    enqueue(session, key=f"sign_in:link:{link_id}", kind=kind, to=to, now=now, locale=locale,
            member_id=member_id, context=context, send_before=expires_at)


def _resend(key: str, resend: int) -> str:
    return f"{key}:resend:{resend}" if resend else key


def gift_received(session: Session, *, gift_id: int, to: str, locale: str, months: int, redeem_url: str,
                  now: datetime, giver_name: str = "", message: str = "", resend: int = 0) -> bool:
    """The gift's recipient: who gave it, their message, and the one-time link that redeems it. `resend`:
    staff re-sent it (1, 2, ...: each a mail of its own). Returns whether a mail was written."""
    return enqueue(session, key=_resend(f"gift_received:gift:{gift_id}", resend), kind="gift_received", to=to,
                   now=now, locale=locale, context={"months": months, "redeem_url": redeem_url,
                                                    "giver_name": giver_name, "message": message})


def gift_purchased(session: Session, *, gift_id: int, to: str, locale: str, months: int, recipient_email: str,
                   now: datetime, recipient_name: str = "", deliver_on: date | None = None,
                   member_id: int | None = None) -> bool:
    """The buyer's thanks and receipt of what happens next (mailed on `deliver_on`, or already)."""
    return enqueue(session, key=f"gift_purchased:gift:{gift_id}", kind="gift_purchased", to=to, now=now,
                   locale=locale, member_id=member_id,
                   context={"months": months, "recipient_email": recipient_email, "recipient_name": recipient_name,
                            "deliver_on": deliver_on})


def erasure_confirm(session: Session, *, request_id: int, to: str, locale: str, link: str, minutes: int,
                    expires_at: datetime, now: datetime, member_id: int | None = None) -> bool:
    """A member asked for the erasure of their data: the single-use link that confirms it (service/privacy),
    once per request. Not sent once the link expired; its body is wiped once sent (the link table keeps a
    hash). No mail follows the erasure itself: the address is gone by then."""
    return enqueue(session, key=f"erasure_confirm:request:{request_id}", kind="erasure_confirm", to=to, now=now,
                   locale=locale, member_id=member_id, context={"link": link, "minutes": minutes},
                   send_before=expires_at)
