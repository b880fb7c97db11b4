"""Retention (no Flask): what `flask --app service purge` removes once it is older than its limit
(RETENTION_* settings, service/privacy/settings.py). Each step works in batches, so a long purge holds no
lock for long and a crash loses nothing but the batch in progress.

- meter reads: deleted when read before the limit (never shorter than the meter's period);
- sign-in links: deleted when created before the limit (used or not);
- mail: subject, bodies and template context blanked when created before the limit (address, kind,
  state and times stay: the outbox's record of what was sent);
- Stripe events (applied or ignored): raw body blanked when received before the limit (id, type,
  object, outcome, attempts and times stay; failed events keep their body for `webhooks replay`);
- widget counters: only when RETENTION_WIDGET_DAYS is set (they count, without any reader or address).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select, update
from sqlalchemy.orm import Session

from service.payments.ledger import ERASED_BODY
from service.privacy import footprint
from service.privacy.scrub import blank
from service.privacy.settings import Retention


@dataclass(frozen=True)
class Step:
    name: str
    table: str
    action: str  # "delete" or "blank"
    older: Callable[[Table, datetime], ColumnElement[bool]]  # rows older than the limit (at `cutoff`)
    age: timedelta | None
    columns: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.name}: {self.action} older than {self.age.days} days" if self.age else f"{self.name}: kept"


def steps(retention: Retention) -> list[Step]:
    mail_columns = ("subject", "body", "html", "context")
    return [
        Step("meter reads", "meter_reads", "delete", lambda t, c: t.c.read_at < c, retention.meter_reads),
        Step("sign-in links", "magic_links", "delete", lambda t, c: t.c.created_at < c, retention.signin_links),
        Step("mail bodies", "mail_outbox", "blank", _old_mail, retention.mail_bodies, mail_columns),
        Step("Stripe event bodies", "webhook_events", "blank",
             lambda t, c: (t.c.received_at < c) & t.c.status.in_(("applied", "ignored"))
             & t.c.payload.not_in(("", ERASED_BODY)),
             retention.webhook_payloads, ("payload",)),
        Step("widget counters", "widget_daily", "delete",
             lambda t, c: t.c.day < c.date(), retention.widget_counters),
    ]


def _old_mail(t: Table, cutoff: datetime) -> ColumnElement[bool]:
    """Mail written before the cutoff that still has a body; never one still waiting to be sent."""
    filled = (t.c.body != "") | (t.c.subject != "")
    if "context" in t.c:
        filled = filled | (t.c.context != "{}")
    cond = (t.c.created_at < cutoff) & filled
    return cond & (t.c.status != "pending") if "status" in t.c else cond


def _where(step: Step, now: datetime) -> tuple[Table, ColumnElement[bool]] | None:
    t = footprint.table(step.table)
    if t is None or step.age is None:
        return None
    return t, step.older(t, now - step.age)


def pending(session: Session, step: Step, now: datetime) -> int:
    found = _where(step, now)
    if found is None:
        return 0
    t, cond = found
    return session.scalar(select(func.count()).select_from(t).where(cond)) or 0


def purge_batches(session: Session, step: Step, now: datetime, batch: int) -> Iterator[int]:
    """Purge one step in batches of at most `batch` rows, committing each; yields each batch's size."""
    found = _where(step, now)
    if found is None:
        return
    t, cond = found
    pk = list(t.primary_key.columns)[0]
    while True:
        ids = list(session.scalars(select(pk).where(cond).order_by(pk).limit(batch)))
        if not ids:
            return
        stmt: Any = (delete(t) if step.action == "delete"
                     else update(t).values(**blank(t, step.columns))).where(pk.in_(ids))
        session.execute(stmt)
        session.commit()
        yield len(ids)
