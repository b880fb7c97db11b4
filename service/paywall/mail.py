"""Transitional: the paywall's old mail call, now a mail in the outbox (service/mail).

New code enqueues through service/mail/member_mail.py (a key per fact, templates per locale) and calls
service.mail.send_after_commit() after its commit. `send` remains for callers not moved yet: it writes a
`notice` mail (their own subject and text) to the outbox, sent after commit or by `flask mail
send-pending`; it no longer talks to the server itself, so it never raises MailError.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from service.mail.outbox import enqueue
from service.mail.send import SmtpSettings

__all__ = ["MailError", "SmtpSettings", "send"]


class MailError(RuntimeError):
    """Kept for callers that still catch it (the outbox never raises it)."""


def send(session: Session, *, smtp_url: str = "", sender: str = "", to: str, subject: str, body: str,
         now: datetime, timeout: float = 10.0, key: str | None = None, locale: str = "en") -> None:
    """Write a `notice` mail (subject and text as given) to the outbox; `key`: the fact it is about (one
    mail per key), else a mail of its own. `smtp_url`, `sender` and `timeout` are ignored (MailSettings)."""
    enqueue(session, key=key or f"notice:{uuid.uuid4().hex}", kind="notice", to=to, now=now, locale=locale,
            context={"subject": subject, "text": body})
