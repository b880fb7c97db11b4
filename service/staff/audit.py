"""The staff audit log: who did what, when, to which campaign; written by every staff change and sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns.models import Campaign
from service.staff.models import AuditEntry


def record(session: Session, *, actor: str, action: str, target: str = "", campaign: Campaign | None = None,
           details: dict[str, Any] | None = None, now: datetime) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target[:200],
                       campaign_id=campaign.id if campaign is not None else None,
                       details=details or {}, at=now)
    session.add(entry)
    session.flush()
    return entry


# Sign-ins, sign-outs, account changes and token use: on the admins' audit page, not on every dashboard.
ACCOUNT_ACTIONS = ("signin.", "signout", "account.", "token.use")


def recent(session: Session, campaign: Campaign | None = None, limit: int = 50) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if campaign is not None:  # the campaign's entries and the ones about no campaign (tokens, payments)
        query = query.where((AuditEntry.campaign_id == campaign.id) | AuditEntry.campaign_id.is_(None))
        query = query.where(*[AuditEntry.action.not_like(f"{prefix}%") for prefix in ACCOUNT_ACTIONS])
    return list(session.scalars(query))
