"""Outgoing mail: SMTP from SMTP_URL with smtplib, or the outbox table when no server is set.

SMTP_URL forms: smtp://host:25 (plain), smtp+starttls://user:pass@host:587 (STARTTLS, required),
smtps://user:pass@host:465 (TLS from the start). User and password are URL-decoded.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from service.paywall.models import OutboxMessage

log = logging.getLogger(__name__)
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(RuntimeError):
    """The mail server refused or could not be reached."""


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


def build_message(sender: str, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "localhost")
    msg.set_content(body)
    return msg


def send(session: Session, *, smtp_url: str, sender: str, to: str, subject: str, body: str, now: datetime,
         timeout: float = 10.0) -> None:
    """Send now (SMTP) or keep in the outbox; raises MailError when the server fails."""
    if not smtp_url:
        session.add(OutboxMessage(to_addr=to, subject=subject, body=body, created_at=now))
        session.flush()
        return
    settings = SmtpSettings.parse(smtp_url)
    msg = build_message(sender, to, subject, body, now)
    try:
        if settings.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with server:
            if settings.scheme == "smtp+starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.username:
                server.login(settings.username, settings.password or "")
            server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to the SMTP server %s:%s failed: %s", settings.host, settings.port, type(exc).__name__)
        raise MailError("the mail server could not take the message") from exc
