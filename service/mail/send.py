"""The outbox's send side (no Flask): claim due mail with a lease, render it, send it through SMTP_URL,
record the outcome.

- Claim: `UPDATE mail_outbox SET lease_until, lease_owner WHERE id = ? AND status = 'pending' AND due AND
  (no lease or the lease expired)`, committed before the SMTP exchange. One statement on one row, so of
  several senders (threads, workers, the periodic job) exactly one gets each mail; a sender that crashed
  leaves a lease that expires (`MailSettings.lease`), and the mail is taken again.
- Outcome, written only while the sender still holds the lease: `sent`; a temporary failure (4xx answer,
  connection error, timeout) is retried with back-off (1, 2, 4, ... minutes, at most an hour apart) until
  `max_attempts`, then `failed`; a permanent one (5xx) is `failed` at once. `last_error` keeps the answer.
- Without SMTP_URL, or with MAIL_DISABLED, mail is rendered and stays `pending` (development: read it with
  `flask outbox`).
- Sign-in and gift mail carry a one-time link: once sent or failed, body and context are wiped (the link
  table keeps only a hash), and a sign-in mail not sent before its link expires is `failed` unsent.

SMTP_URL forms: smtp://host:25 (plain), smtp+starttls://user:pass@host:587 (STARTTLS, required),
smtps://user:pass@host:465 (TLS from the start). User and password are URL-decoded.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from service.mail import render
from service.mail.models import OutboxMessage
from service.mail.outbox import context_of
from service.mail.settings import FIRST_RETRY, LONGEST_RETRY, MailSettings

log = logging.getLogger(__name__)
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# Mail that may hold a one-time link (sign-in, gift, erasure confirmation, a notice): wiped once sent or failed.
SECRET_KINDS = ("sign_in", "gift_received", "erasure_confirm", "notice")
WIPED = "(removed after sending: it may have held a one-time link)"


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587 "
                             "or smtps://user:pass@host:465")
        return cls(parts.scheme, parts.hostname, parts.port or SCHEMES[parts.scheme],
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


@dataclass
class Summary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    kept: int = 0  # rendered, not sent: no SMTP_URL, or MAIL_DISABLED
    busy: int = 0  # another sender holds it

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class Permanent(Exception):
    """The server refused the mail for good (5xx)."""


def build_message(settings: MailSettings, message: OutboxMessage, now: datetime) -> EmailMessage:
    """multipart/alternative: the plain text, then the HTML. The Message-ID derives from the outbox key,
    so a mail sent again after a lost answer carries the same id (receivers may drop the copy)."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = message.to_addr
    msg["Subject"] = message.subject
    msg["Date"] = format_datetime(now)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{hashlib.sha256(message.key.encode()).hexdigest()[:40]}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(message.body)
    msg.add_alternative(message.html, subtype="html")
    msg["Content-Language"] = render.resolve_locale(message.locale)  # (after set_content, which drops Content-*)
    return msg


def smtp_send(settings: MailSettings, msg: EmailMessage) -> None:
    """One SMTP exchange; raises Permanent (5xx) or another exception (temporary)."""
    smtp = SmtpSettings.parse(settings.smtp_url)
    timeout = settings.smtp_timeout
    try:
        if smtp.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with server:
            if smtp.scheme == "smtp+starttls":
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(msg)
    except smtplib.SMTPException as exc:
        code, answer = answer_of(exc)
        if 500 <= code < 600:
            raise Permanent(answer) from exc
        raise


def answer_of(exc: BaseException) -> tuple[int, str]:
    """The server's code and answer (`451 4.3.0 try later`), or (0, the error's name) without one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    else:
        return 0, f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return int(code), f"{code} {text}"[:2000]


def backoff(attempts: int) -> Any:
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_RETRY)


def due_ids(session: Session, now: datetime, keys: Sequence[str] | None, limit: int) -> list[int]:
    q = (select(OutboxMessage.id).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                                        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now))
         .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if keys is not None:
        q = q.where(OutboxMessage.key.in_(list(keys)))
    return list(session.scalars(q))


def claim(session: Session, message_id: int, now: datetime, settings: MailSettings) -> str | None:
    """Take one due mail for this sender (committed); its lease owner token, or None when another has it."""
    owner = secrets.token_hex(16)
    taken = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
               OutboxMessage.next_attempt_at <= now,
               or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now))
        .values(lease_until=now + settings.lease, lease_owner=owner, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return owner if taken == 1 else None


def _finish(session: Session, message: OutboxMessage, owner: str, values: dict[str, Any]) -> bool:
    """Write the outcome while this sender still holds the lease (committed)."""
    done = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.lease_owner == owner)
        .values(lease_until=None, lease_owner="", **values).execution_options(synchronize_session=False)).rowcount
    session.commit()
    if done != 1:
        log.warning("mail %s: the lease expired before the outcome was written", message.id)
    return done == 1


def _secret_wipe(message: OutboxMessage) -> dict[str, Any]:
    return {"body": WIPED, "html": "", "context": "{}"} if message.kind in SECRET_KINDS else {}


def deliver_one(session: Session, settings: MailSettings, message: OutboxMessage, owner: str, now: datetime,
                transport: Callable[[MailSettings, EmailMessage], None] = smtp_send) -> str:
    """Render (once) and send a claimed mail; returns the outcome: sent, retrying, failed or kept."""
    values: dict[str, Any] = {"updated_at": now}
    session.expunge(message)  # the outcome is one guarded UPDATE, not a flush of this object
    if not message.subject:
        try:
            out = render.render(message.kind, context_of(message), settings, message.locale)
        except Exception as exc:  # noqa: BLE001 - a mail that cannot be rendered must not be retried forever
            log.exception("mail %s (%s) could not be rendered", message.id, message.kind)
            _finish(session, message, owner, {**values, "status": "failed", "last_error": f"not rendered: {exc}"})
            return "failed"
        message.subject, message.body, message.html = out.subject, out.text, out.html
        values.update(subject=out.subject, body=out.text, html=out.html)
    if message.send_before is not None and now >= message.send_before:
        _finish(session, message, owner, {**values, "status": "failed", **_secret_wipe(message),
                                          "last_error": "not sent: it expired before it could be sent"})
        return "failed"
    if not settings.sending:
        _finish(session, message, owner, values)
        return "kept"
    attempts = message.attempts + 1
    try:
        transport(settings, build_message(settings, message, now))
    except Permanent as exc:
        outcome, values = "failed", {**values, "status": "failed", "last_error": str(exc), **_secret_wipe(message)}
    except (OSError, smtplib.SMTPException) as exc:
        answer = answer_of(exc)[1]
        log.warning("mail %s to the SMTP server failed (attempt %s): %s", message.id, attempts, answer)
        if attempts >= settings.max_attempts:
            outcome, values = "failed", {**values, "status": "failed", "last_error": answer, **_secret_wipe(message)}
        else:
            outcome, values = "retrying", {**values, "last_error": answer,
                                           "next_attempt_at": now + backoff(attempts)}
    else:
        outcome, values = "sent", {**values, "status": "sent", "sent_at": now, "last_error": "",
                                   **_secret_wipe(message)}
    _finish(session, message, owner, {**values, "attempts": attempts})
    return outcome


def deliver_each(session: Session, settings: MailSettings, now: datetime, *, keys: Sequence[str] | None = None,
                 limit: int = 100, transport: Callable[[MailSettings, EmailMessage], None] = smtp_send
                 ) -> Iterator[str]:
    """Send up to `limit` due mail (only `keys`, when given), each claimed first, committing as it goes;
    yields each outcome (sent, retrying, failed, kept, busy)."""
    ids = due_ids(session, now, keys, limit)
    session.commit()
    for message_id in ids:
        owner = claim(session, message_id, now, settings)
        message = session.get(OutboxMessage, message_id) if owner else None
        yield deliver_one(session, settings, message, owner, now, transport) if message and owner else "busy"


def deliver(session: Session, settings: MailSettings, now: datetime, *, keys: Sequence[str] | None = None,
            limit: int = 100, transport: Callable[[MailSettings, EmailMessage], None] = smtp_send) -> Summary:
    summary = Summary()
    for outcome in deliver_each(session, settings, now, keys=keys, limit=limit, transport=transport):
        summary.add(outcome)
    return summary


def due_count(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now))) or 0)
