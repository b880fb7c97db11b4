"""Erasure tombstones: what stays of a person whose data was erased, so that Stripe's later facts about them
keep applying (money, membership, the count) without bringing their personal data back. No Flask.

A tombstone row is keyed by `customer:<Stripe customer id>` (one per customer of the erased member) and by
`email:<HMAC-SHA256 of the normalised email>`. The HMAC key is derived from SECRET_KEY, so a copy of the
database alone cannot confirm a guessed address (a plain hash of an email is found by trying addresses).
Rotating SECRET_KEY makes the email tombstones stop matching; the customer ones do not depend on it.

The rule (`erased`), consulted by payments before it learns a customer's email:
- a tombstoned customer's email is never learned again, whatever the event's date (its renewals, refunds
  and cancellation still apply to the erased member, which keeps its counting facts);
- an email erased at T is not learned from an event Stripe created before T (a late or redelivered old
  event); an event created after T is a new fact: the same person checking out again is a new person.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.db import Base, aware
from service.members.identity import normalize_email

ERASED_DOMAIN = "@erased.invalid"
KEY_LABEL = b"members.erasure-tombstone.v1"


class ErasureTombstone(Base):
    """One key of an erased person (`customer:cus_...` or `email:<hmac hex>`), the member row that keeps
    their counting facts, and when they were erased."""

    __tablename__ = "erasure_tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    erased_at: Mapped[datetime]


def erased_email(member_id: int) -> str:
    """The address an erased member keeps (members are unique by email): reserved (RFC 2606 `.invalid`)."""
    return f"erased-{member_id}{ERASED_DOMAIN}"


def is_erased_email(email: str) -> bool:
    return email.endswith(ERASED_DOMAIN)


def email_key(secret: str) -> bytes:
    """The HMAC key of email tombstones, derived from SECRET_KEY (never stored)."""
    return hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()


def email_digest(key: bytes, email: str) -> str:
    return hmac.new(key, normalize_email(email).encode(), hashlib.sha256).hexdigest()


def keys_for(key: bytes, email: str | None, customer_ids: Iterable[str]) -> list[str]:
    out = [f"email:{email_digest(key, email)}"] if email else []
    return out + [f"customer:{c}" for c in sorted(set(customer_ids)) if c]


def add(session: Session, member_id: int, keys: Iterable[str], now: datetime) -> None:
    """Tombstones for these keys (a key already there keeps its first erasure)."""
    keys = list(keys)
    known = set(session.scalars(select(ErasureTombstone.key).where(ErasureTombstone.key.in_(keys))))
    for k in keys:
        if k not in known:
            session.add(ErasureTombstone(key=k, member_id=member_id, erased_at=now))
    session.flush()


def erased(session: Session, key: bytes, *, customer_id: str, email: str, at: datetime) -> bool:
    """Whether an email seen for `customer_id` in a fact from time `at` must not be learned (the rule above)."""
    wanted = [f"customer:{customer_id}"] + ([f"email:{email_digest(key, email)}"] if key and email else [])
    for k, erased_at in session.execute(select(ErasureTombstone.key, ErasureTombstone.erased_at)
                                        .where(ErasureTombstone.key.in_(wanted))):
        if k.startswith("customer:") or at <= aware(erased_at):  # type: ignore[operator]
            return True
    return False
