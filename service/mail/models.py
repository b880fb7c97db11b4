"""The mail outbox (`mail_outbox`): one row per mail, keyed by the fact that caused it.

A row is written in the same transaction as its fact (insert-or-ignore on `key`, so a redelivered or
replayed webhook, or a concurrent delivery of it, adds nothing) and sent after commit (service/mail/send.py).
`context` holds the facts the templates need (JSON); `subject`, `body` (plain text) and `html` are filled
when the mail is rendered, just before it is first sent. `member_id` names the member it concerns (no
foreign key: mail is a record of what was sent, and a merged member's mail stays where it was).

Status: `pending` (to send; `next_attempt_at` says when, `lease_until`/`lease_owner` mark a sender working
on it), `sent` (`sent_at`), `failed` (final: `last_error` holds the server's answer). Rows from before
migration 0014 (mail kept because no SMTP server was set) are `failed` with kind `legacy`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only
STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="")
    member_id: Mapped[int | None] = mapped_column(index=True)
    to_addr: Mapped[str] = mapped_column(String(320), index=True)
    locale: Mapped[str] = mapped_column(String(35), default="en")
    context: Mapped[str] = mapped_column(Text, default="{}")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str] = mapped_column(String(32), default="")
    send_before: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.key} {self.status}>"
