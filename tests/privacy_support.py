"""Helpers of the data-rights tests: a member made by real signed webhooks, with sign-ins, mail and meter
reads, and a search of every text column of every table (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from service.db import Base
from service.members.models import Member
from service.paywall import member_access
from tests.stripe_events import Lifecycle, post

EMAIL = "Reader.One+news@Example.org"
NORMALISED = EMAIL.lower()
READER = "rdr_privacy_0001"
OTHER = "someone.else@example.org"


@dataclass
class Person:
    life: Lifecycle
    member: Member
    token: str


def join(app, client, session, *, n: int = 1, email: str = EMAIL, reader: str = READER,
         names=("checkout", "customer", "created", "first_paid", "first_payment")) -> Person:
    """A member made by Stripe's signed webhooks (checkout with attribution and a reader id, customer,
    subscription, first payment), a used sign-in link, a mail and a meter read on their reader id."""
    life = Lifecycle(n=n, email=email, metadata={"campaign": "members-25k", "plan": "monthly", "locale": "uk",
                                                 "source": "article:a1", "article_id": "a1", "reader_id": reader})
    events = life.events()
    for name in names:
        assert post(client, events[name]).status_code == 200, name
    session.expire_all()
    member = session.scalar(sa.select(Member).where(Member.email == email.lower()))
    assert member is not None
    now = app.extensions["clock"].now()
    insert_row(session, "magic_links", token_hash=f"{n:064d}", email=member.email, return_url="https://news.example/",
               created_at=now - timedelta(days=1), expires_at=now - timedelta(days=1) + timedelta(minutes=15),
               used_at=now - timedelta(days=1) + timedelta(minutes=1))
    insert_row(session, "mail_outbox", to_addr=member.email, subject="Your sign-in link",
               body=f"Hello {member.email}, sign in here", created_at=now - timedelta(days=1))
    insert_row(session, "meter_reads", reader_id=reader, article_id="a1", read_at=now - timedelta(hours=3))
    session.commit()
    token = member_access.member_token(app.extensions["paywall"].settings, member, now)
    return Person(life, member, token)


def insert_row(session, table: str, **values: Any) -> None:
    """A row of `table` with the values given and a plausible value for every other required column, so that
    the helpers keep working whatever columns other features add."""
    t = sa.Table(table, sa.MetaData(), autoload_with=session.connection())  # the schema as migrated
    row = dict(values)
    for c in t.columns:
        if c.name in row or c.nullable or c.primary_key or c.default is not None or c.server_default is not None:
            continue
        try:
            kind = c.type.python_type
        except NotImplementedError:
            kind = str
        if kind is datetime:
            row[c.name] = values.get("created_at") or datetime(2025, 1, 1, tzinfo=UTC)
        elif kind is date:
            row[c.name] = date(2025, 1, 1)
        elif kind in (int, bool):
            row[c.name] = kind(0)
        else:
            row[c.name] = f"{c.name}-{len(values)}-{id(row)}"[: getattr(c.type, "length", None) or 100]
    session.execute(sa.insert(t).values(**row))


def traces(session, needle: str) -> list[str]:
    """Every table.column whose text (strings, text, JSON) holds `needle`, case-insensitively."""
    found = []
    for t in Base.metadata.sorted_tables:
        for c in t.columns:
            if not isinstance(c.type, sa.String | sa.Text | sa.JSON):
                continue
            text = sa.cast(c, sa.Text)
            n = session.scalar(sa.select(sa.func.count()).select_from(t)
                               .where(sa.func.lower(text).contains(needle.lower(), autoescape=True)))
            if n:
                found.append(f"{t.name}.{c.name}")
    return found


# Columns that name a person: an address, a member, a Stripe customer, a reader.
PERSONAL = {"email": re.compile(r"^(.*_)?email$|^to_addr$"), "member_id": re.compile(r"^(.*_)?member_id$"),
            "customer": re.compile(r"customer"), "reader_id": re.compile(r"^reader_id$")}
