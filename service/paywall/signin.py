"""Member sign-in by magic link: the return-URL rule, link requests (per-address quota), one-time use, purge."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service import urls
from service.errors import DomainError, Invalid, Unavailable
from service.members.identity import normalize_email
from service.members.models import Member
from service.paywall import mail, quota
from service.paywall.member_access import member_token
from service.paywall.models import MagicLink
from service.paywall.prompts import add_query
from service.paywall.settings import Settings

MAX_MAGIC_TOKEN = 100


class LinkGone(DomainError):
    status = 410
    type = "sign-in-link-invalid"
    title = "Sign-in link not valid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_return_url(settings: Settings, url: str) -> str:
    if not urls.allowed_origin(url, settings.allowed_origins):
        raise Invalid("return_url must be an http(s) URL on an allowed site origin.",
                      errors={"return_url": ["Not on an allowed origin."]})
    return url


def request_magic_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime) -> None:
    """Mail a sign-in link to a member, or a 'no membership here' note to anyone else.

    Both paths do the same work (a link row, one lookup, one mail) so that neither the answer nor its
    timing tells whether an address belongs to a member.
    """
    check_return_url(settings, return_url)
    quota.spend(session, settings.signin_quota, email, now)  # after the input checks: refused input spends none
    email = normalize_email(email)
    token = _new_link(session, settings, email, return_url, now)
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        subject, body = _sign_in_mail(settings, token)
    else:
        subject = "Your sign-in link"
        body = ("Hello,\n\nSomeone (hopefully you) asked to sign in with this address, but we found no membership "
                "for it. If you joined with another address, ask for a link for that one. To become a member:\n\n"
                f"{add_query(settings.join_url, {'source': 'sign-in'})}\n\n"
                "If you did not ask to sign in, ignore this message.\n")
    _send_mail(session, settings, email, subject, body, now)


def send_sign_in_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime) -> None:
    """Mail a one-time sign-in link to an address the caller knows to be a member's own (the stored one)."""
    check_return_url(settings, return_url)
    email = normalize_email(email)
    token = _new_link(session, settings, email, return_url, now)
    _send_mail(session, settings, email, *_sign_in_mail(settings, token), now)


def _new_link(session: Session, settings: Settings, email: str, return_url: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(MagicLink(token_hash=_hash(token), email=email, return_url=return_url, created_at=now,
                          expires_at=now + settings.magic_link_ttl))
    return token


def _sign_in_mail(settings: Settings, token: str) -> tuple[str, str]:
    minutes = int(settings.magic_link_ttl.total_seconds() // 60)
    link = f"{settings.public_base_url}/v1/auth/magic-links/{token}"
    return "Your sign-in link", (
        f"Hello,\n\nUse this link to sign in. It works once and expires in {minutes} minutes:\n\n{link}\n\n"
        "If you did not ask to sign in, ignore this message.\n")


def _send_mail(session: Session, settings: Settings, to: str, subject: str, body: str, now: datetime) -> None:
    session.flush()
    try:
        mail.send(session, smtp_url=settings.smtp_url, sender=settings.mail_from, to=to, subject=subject,
                  body=body, now=now, timeout=settings.smtp_timeout)
    except mail.MailError as exc:
        raise Unavailable("The sign-in mail could not be sent; try again in a few minutes.") from exc


@dataclass(frozen=True)
class SignIn:
    redirect_url: str
    member_token: str | None = None
    error: str | None = None


def use_magic_link(session: Session, settings: Settings, token: str, now: datetime) -> SignIn:
    """Use a link once (atomic: the UPDATE only matches an unused, unexpired link) and sign the member in."""
    gone = LinkGone("This sign-in link is not valid. Ask for a new one.")
    if not token or len(token) > MAX_MAGIC_TOKEN:
        raise gone
    digest = _hash(token)
    used = session.execute(
        update(MagicLink).where(MagicLink.token_hash == digest, MagicLink.used_at.is_(None),
                                MagicLink.expires_at > now).values(used_at=now)
    ).rowcount
    link = session.scalar(select(MagicLink).where(MagicLink.token_hash == digest))
    if link is None:
        raise gone
    if not urls.allowed_origin(link.return_url, settings.allowed_origins):  # the allowlist changed since
        raise gone
    if used != 1:
        error = "link_used" if link.used_at is not None else "link_expired"
        return SignIn(with_fragment(link.return_url, {"sign_in_error": error}), error=error)
    member = session.scalar(select(Member).where(Member.email == link.email))
    if member is None:
        return SignIn(with_fragment(link.return_url, {"sign_in_error": "not_a_member"}), error="not_a_member")
    from service.paywall.claims import signed_in_with_link  # (claims builds on this module)

    signed_in_with_link(session, member, now)  # the address is proven: trust and customer of record follow
    token_out = member_token(settings, member, now)
    return SignIn(with_fragment(link.return_url, {"member_token": token_out}), member_token=token_out)


def with_fragment(url: str, values: dict[str, str]) -> str:
    """The URL with its fragment replaced: fragments never reach servers, logs or Referer headers."""
    return urlunsplit(urlsplit(url)._replace(fragment=urlencode(values)))


def purge_used_links(session: Session, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links that expired more than `keep` ago (used or not)."""
    return session.execute(delete(MagicLink).where(MagicLink.expires_at < now - keep)).rowcount or 0
