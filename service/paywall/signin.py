"""Member sign-in by magic link: the return-URL rule, link requests (per-address quota), one-time use, purge.

The link's mail goes to the outbox in the same transaction as the link (service/mail: key `sign_in:link:<id>`,
templates in the member's locale); the view sends it after its commit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service import urls
from service.errors import DomainError, Invalid
from service.mail import member_mail
from service.members.identity import normalize_email
from service.members.models import Member
from service.paywall import quota
from service.paywall.member_access import member_token
from service.paywall.models import MagicLink
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


def request_magic_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime,
                       locale: str | None = None) -> None:
    """Mail a sign-in link to a member, or a 'no membership here' note to anyone else, in `locale` (the
    page's language, from the request) when given, else the member's (a stranger: English).

    Both paths do the same work (a link row, one lookup, one mail) so that neither the answer nor its
    timing tells whether an address belongs to a member.
    """
    check_return_url(settings, return_url)
    quota.spend(session, settings.signin_quota, email, now)  # after the input checks: refused input spends none
    email = normalize_email(email)
    link, token = _new_link(session, settings, email, return_url, now)
    found = session.execute(select(Member.id, Member.locale).where(Member.email == email)).first()
    _mail(session, settings, link, token if found else None, found, now, locale)


def send_sign_in_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime) -> None:
    """Mail a one-time sign-in link to an address the caller knows to be a member's own (the stored one)."""
    check_return_url(settings, return_url)
    email = normalize_email(email)
    link, token = _new_link(session, settings, email, return_url, now)
    found = session.execute(select(Member.id, Member.locale).where(Member.email == email)).first()
    _mail(session, settings, link, token, found, now)


def _new_link(session: Session, settings: Settings, email: str, return_url: str, now: datetime
              ) -> tuple[MagicLink, str]:
    token = secrets.token_urlsafe(32)
    link = MagicLink(token_hash=_hash(token), email=email, return_url=return_url, created_at=now,
                     expires_at=now + settings.magic_link_ttl)
    session.add(link)
    session.flush()  # its id keys the mail
    return link, token


def _mail(session: Session, settings: Settings, link: MagicLink, token: str | None, member: Any, now: datetime,
          locale: str | None = None) -> None:
    """The link's mail (`token` None: the no-membership note), in `locale` if given, else the member's locale,
    in the outbox."""
    member_mail.sign_in(
        session, link_id=link.id, to=link.email, locale=locale or (member.locale if member else ""),
        link=f"{settings.public_base_url}/v1/auth/magic-links/{token}" if token else None,
        minutes=int(settings.magic_link_ttl.total_seconds() // 60), expires_at=link.expires_at, now=now,
        member_id=member.id if member else None)


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
