"""A member's data export: every row of every table that names them (service/privacy/footprint.py), as
JSON-ready values (no Flask). `data` maps table names to rows; each row has all its columns except
hashes of live secrets. Stripe event bodies are included parsed (they are Stripe's copy of the person's
objects); aggregates that count people without naming them (campaign roll-ups, checkout starts, widget
counters) are listed under `not_personal`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from service.db import aware
from service.members.models import Member
from service.privacy import footprint

FORMAT = "membership-export/1"
NOT_PERSONAL = {
    "campaign_daily": "sign-ups and endings per campaign, day, plan, locale and source (counts only)",
    "checkout_starts": "checkouts started per campaign, day, plan, locale and source (counts only)",
    "widget_daily": "widget impressions and clicks per campaign, day and locale (counts only)",
}
SECTIONS = {  # what each table is, for the reader of the export
    "members": "your membership profile",
    "subscriptions": "your membership subscriptions (Stripe) and where you joined",
    "member_status_changes": "the history of your membership status",
    "stripe_customers": "your Stripe customers",
    "membership_invoices": "your paid membership invoices (amounts in minor units)",
    "stripe_payments": "payments of your invoices, and refunds or disputes",
    "magic_links": "sign-in links sent to you, and when you used them",
    "mail_outbox": "mail sent to you",
    "meter_reads": "members-only articles read on your reader id (the paywall's meter)",
    "webhook_events": "Stripe's notifications about your customer, subscriptions and invoices",
    "gifts": "gift memberships you bought or received",
    "contributions": "one-time contributions you made",
    "erasure_requests": "requests to erase your data",
}


def plain(value: Any, column_name: str = "") -> Any:
    if isinstance(value, datetime):
        return aware(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if column_name in ("payload", "context") and isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def rows(session: Session, t: Table, cond: Any) -> list[dict[str, Any]]:
    shown = [c for c in t.columns if c.name not in footprint.HIDDEN_COLUMNS]
    pk = list(t.primary_key.columns)
    result = session.execute(select(*shown).where(cond).order_by(*pk))
    return [{c.name: plain(v, c.name) for c, v in zip(shown, row, strict=True)} for row in result]


def export(session: Session, member: Member, now: datetime) -> dict[str, Any]:
    """Everything the service holds about the member, by table."""
    fp = footprint.of(session, member)
    data: dict[str, list[dict[str, Any]]] = {}
    for t, cond in footprint.tables_naming(fp):
        found = rows(session, t, cond)
        if found:
            data[t.name] = found
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "member_id": member.id,
        "email": member.email,
        "sections": {name: SECTIONS.get(name, name.replace("_", " ")) for name in data},
        "data": data,
        "not_personal": NOT_PERSONAL,
    }
