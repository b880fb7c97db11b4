"""The outbox's write side: enqueue a mail in the caller's transaction, once per fact (no Flask).

`enqueue` is the one way mail enters the outbox (member facts, sign-in links, gifts). The row is an
INSERT ... ON CONFLICT (key) DO NOTHING: the key names the fact that caused the mail
(`welcome:member:42`, `payment_failed:invoice:in_1`, `gift_received:gift:7`), so a redelivered or replayed
webhook adds nothing, and two concurrent deliveries of one fact add one row (the database's unique key
decides, not a read before the write). The mail is rendered and sent after the caller commits
(service/mail/send.py): `pending_keys(session)` names the mail this session enqueued, for an explicit
"send now" after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.mail.models import STATUSES, OutboxMessage

# `notice`: words the caller wrote (context: subject, text), in the mail layout; every other kind has templates.
KINDS = ("welcome", "payment_failed", "ended", "gift_received", "gift_purchased", "sign_in", "sign_in_unknown",
         "erasure_confirm", "notice")
_SESSION_KEYS = "mail_enqueued"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"mail context value {value!r} is not JSON")


def enqueue(session: Session, *, key: str, kind: str, to: str, now: datetime, locale: str = "en",
            member_id: int | None = None, context: Mapping[str, Any] | None = None,
            send_before: datetime | None = None) -> bool:
    """Write one mail (pending) unless a mail with this key exists; returns whether it was written.

    `context`: the facts the kind's templates show (datetimes become ISO strings). `send_before`: after
    this the mail is pointless (a sign-in link that expired) and is marked failed instead of sent."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    if not to or not key or len(key) > 255:
        raise ValueError("a mail needs a recipient and a key of at most 255 characters")
    table = OutboxMessage.__table__
    maker = pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    stmt = maker(table).values(
        key=key, kind=kind, member_id=member_id, to_addr=to[:320], locale=(locale or "en")[:35],
        context=json.dumps(dict(context or {}), default=_jsonable, sort_keys=True), subject="", body="", html="",
        status="pending", attempts=0, next_attempt_at=now, lease_until=None, lease_owner="",
        send_before=send_before, last_error="", sent_at=None, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    written = session.execute(stmt).first() is not None  # (RETURNING: rowcount is -1 on psycopg here)
    if written:
        session.info.setdefault(_SESSION_KEYS, []).append(key)
    return written


def pending_keys(session: Session) -> list[str]:
    """The keys of mail this session enqueued since the last call (call it after the commit)."""
    return session.info.pop(_SESSION_KEYS, None) or []


def counts(session: Session) -> dict[str, int]:
    """Mail per status (sent, pending, failed), zeros included."""
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in STATUSES}


def context_of(message: OutboxMessage) -> dict[str, Any]:
    try:
        value = json.loads(message.context or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
