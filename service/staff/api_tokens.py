"""Staff API tokens (`mst_…`): created and revoked by admins (audited), stored only as a hash, looked up per request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Invalid, NotFound
from service.staff import accounts, audit
from service.staff.models import StaffApiToken, StaffUser

TOKEN_PREFIX = "mst_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret


def _token_hash(token: str) -> str:
    """SHA-256 is enough here: tokens are 256 random bits, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, staff: StaffUser, now: datetime) -> tuple[StaffApiToken, str]:
    name = (name or "").strip()
    if not (0 < len(name) <= 100):
        raise Invalid("a token needs a name of 1-100 characters (what uses it).", errors={"name": ["required"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = StaffApiToken(name=name, token_hash=_token_hash(token), prefix=token[:10], created_by=staff.id,
                        created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=staff.email, action="token.create", target=accounts.token_label(row),
                 details={"name": name}, now=now)
    return row, token


def revoke_token(session: Session, token_id: int, *, staff: StaffUser, now: datetime) -> StaffApiToken:
    row = session.get(StaffApiToken, token_id)
    if row is None:
        raise NotFound(f"No API token {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(session, actor=staff.email, action="token.revoke", target=accounts.token_label(row),
                     details={"name": row.name}, now=now)
        session.flush()
    return row


def list_tokens(session: Session) -> list[tuple[StaffApiToken, str | None]]:
    rows = session.execute(
        select(StaffApiToken, StaffUser.email).outerjoin(StaffUser, StaffUser.id == StaffApiToken.created_by)
        .order_by(StaffApiToken.revoked_at.is_not(None), StaffApiToken.created_at.desc())
    ).all()
    return [(t, email) for t, email in rows]


def token_user(session: Session, token: str, now: datetime) -> StaffApiToken | None:
    """The live token row for a bearer token, or None (`accounts.note_token_use` records its use)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _token_hash(token)
    row = session.scalar(select(StaffApiToken).where(StaffApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row
