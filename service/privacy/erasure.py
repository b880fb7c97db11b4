"""Erasure of a member's personal data (no Flask): asked for with a member token and confirmed by a mailed
single-use link, or done by support staff (`flask --app service member erase EMAIL --by NAME`).

What goes and what stays: service/privacy/scrub.py (other tables), service/members/records.py `erase`
(the member row: a placeholder address, tokens revoked, reader ids blanked; counting facts kept, so the
campaign counts and roll-ups do not change), service/members/tombstones.py (the keys that keep later
Stripe events from bringing the address back). With ERASE_STRIPE_CUSTOMER=true the person's Stripe
customers are deleted first (Stripe cancels their subscriptions); if Stripe refuses, nothing is erased.
The audit entry names the member id and what was removed, never the address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.errors import DomainError, NotFound, UpstreamError
from service.mail import member_mail
from service.members import records, tombstones
from service.members.identity import normalize_email
from service.members.models import Member
from service.privacy import footprint, scrub
from service.privacy.models import ErasureRequest
from service.privacy.settings import PrivacySettings
from service.staff import audit


class ErasureLinkGone(DomainError):
    status = 410
    type = "erasure-link-invalid"
    title = "Erasure link not valid"


@dataclass
class Erased:
    member_id: int
    rows: dict[str, int] = field(default_factory=dict)
    stripe_customers_deleted: list[str] = field(default_factory=list)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def member_by_email(session: Session, email: str) -> Member:
    member = session.scalar(select(Member).where(Member.email == normalize_email(email)))
    if member is None or tombstones.is_erased_email(member.email):
        raise NotFound("No member has this address.")
    return member


def request_erasure(session: Session, settings: PrivacySettings, member: Member, now: datetime,
                    public_base_url: str) -> str:
    """A new confirmation token for the member (earlier unused ones keep working until they expire), and its
    mail in the member's locale (`erasure_confirm`, one per request, sent after the caller commits). No mail
    is sent once the erasure is done: the address is erased by then (the confirmation page says it)."""
    token = secrets.token_urlsafe(32)
    request = ErasureRequest(token_hash=_hash(token), member_id=member.id, created_at=now,
                             expires_at=now + settings.erasure_link_ttl, used_at=None)
    session.add(request)
    session.flush()
    member_mail.erasure_confirm(session, request_id=request.id, to=member.email, locale=member.locale,
                                link=f"{public_base_url}/v1/members/erasure/{token}",
                                minutes=int(settings.erasure_link_ttl.total_seconds() // 60),
                                expires_at=request.expires_at, now=now, member_id=member.id)
    return token


def use_link(session: Session, token: str, now: datetime) -> Member:
    """The member whose erasure this link confirms; the link is used (atomically: once)."""
    gone = ErasureLinkGone("This erasure link is not valid (used, expired or unknown). Ask for a new one.")
    if not token or len(token) > 100:
        raise gone
    digest = _hash(token)
    used = session.execute(update(ErasureRequest).where(
        ErasureRequest.token_hash == digest, ErasureRequest.used_at.is_(None), ErasureRequest.expires_at > now)
        .values(used_at=now)).rowcount
    member_id = session.scalar(select(ErasureRequest.member_id).where(ErasureRequest.token_hash == digest))
    member = session.get(Member, member_id) if used == 1 and member_id is not None else None
    if member is None or tombstones.is_erased_email(member.email):
        raise gone
    return member


def link_valid(session: Session, token: str, now: datetime) -> bool:
    """Whether the link would confirm an erasure now (the confirmation page; nothing is used)."""
    if not token or len(token) > 100:
        return False
    return session.scalar(select(ErasureRequest.id).where(
        ErasureRequest.token_hash == _hash(token), ErasureRequest.used_at.is_(None),
        ErasureRequest.expires_at > now)) is not None


def erase(session: Session, client: stripe.StripeClient | None, settings: PrivacySettings, key: bytes,
          member: Member, now: datetime) -> Erased:
    """Erase the member's personal data (caller commits and writes the audit entry)."""
    if tombstones.is_erased_email(member.email):
        raise NotFound("This member's data is already erased.")
    fp = footprint.of(session, member)
    result = Erased(member.id)
    if settings.erase_stripe_customer and client is not None:
        result.stripe_customers_deleted = delete_customers(client, sorted(fp.customers))
    result.rows = scrub.scrub(session, fp, key)
    tombstones.add(session, member.id, tombstones.keys_for(key, member.email, fp.customers), now)
    records.erase(session, member, now)
    return result


def erase_audited(session: Session, client: stripe.StripeClient | None, settings: PrivacySettings, key: bytes,
                  member: Member, now: datetime, *, actor: str, how: str) -> Erased:
    """`erase`, and its audit entry (who, the member id, what was removed: never the erased data)."""
    result = erase(session, client, settings, key, member, now)
    audit.record(session, actor=actor, action="member.erase", target=f"member:{result.member_id}",
                 details=audit_details(result, how), now=now)
    return result


def delete_customers(client: stripe.StripeClient, customer_ids: list[str]) -> list[str]:
    """Delete each customer at Stripe (one already gone counts as deleted); UpstreamError when Stripe refuses."""
    deleted = []
    for customer_id in customer_ids:
        try:
            client.v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) != "resource_missing":
                raise _upstream(exc) from exc
        except stripe.StripeError as exc:
            raise _upstream(exc) from exc
        deleted.append(customer_id)
    return deleted


def _upstream(exc: stripe.StripeError) -> UpstreamError:
    request_id = getattr(exc, "request_id", None) or "unknown"
    return UpstreamError("Stripe could not delete the customer, so nothing was erased; try again later "
                         f"(Stripe request id: {request_id}).", stripe_request_id=request_id)


def audit_details(result: Erased, how: str) -> dict[str, Any]:
    """What the audit log keeps of an erasure: ids and counts, never the erased data."""
    return {"member_id": result.member_id, "how": how, "rows": result.rows,
            "stripe_customers_deleted": len(result.stripe_customers_deleted)}
