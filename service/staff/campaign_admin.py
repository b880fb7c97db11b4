"""Campaign administration by staff (dashboard, staff API, CLI): campaigns/admin.py's changes, each one
written to the audit log with who made it and through what (`via`: "", "api" or "cli")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.campaigns import admin
from service.campaigns.models import Campaign
from service.staff import audit


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _via(via: str) -> dict[str, str]:
    return {"via": via} if via else {}


def create(session: Session, values: dict[str, Any], *, actor: str, now: datetime, via: str = "",
           require_https: bool = False) -> Campaign:
    campaign = admin.create(session, values, now=now, require_https=require_https)
    audit.record(session, actor=actor, action="campaign.create", target=campaign.slug, campaign=campaign,
                 details={"goal": campaign.goal, "count": campaign.count, **_via(via)}, now=now)
    return campaign


def edit(session: Session, campaign: Campaign, values: dict[str, Any], *, actor: str, now: datetime,
         via: str = "", require_https: bool = False) -> admin.Outcome:
    outcome = admin.edit(session, campaign, values, now=now, require_https=require_https)
    if outcome.changes:
        details: dict[str, Any] = {k: [_plain(a), _plain(b)] for k, (a, b) in outcome.changes.items()}
        if outcome.recounted:
            details["count"] = [outcome.count_before, outcome.count_after]
        audit.record(session, actor=actor, action="campaign.edit", target=campaign.slug, campaign=campaign,
                     details={**details, **_via(via)}, now=now)
    return outcome


def set_archived(session: Session, campaign: Campaign, archived: bool, *, actor: str, now: datetime,
                 via: str = "") -> bool:
    changed = admin.set_archived(session, campaign, archived, now=now)
    if changed:
        audit.record(session, actor=actor, action="campaign.archive" if archived else "campaign.unarchive",
                     target=campaign.slug, campaign=campaign, details=_via(via), now=now)
    return changed


def delete(session: Session, campaign: Campaign, *, actor: str, now: datetime, force: bool = False,
           via: str = "") -> dict[str, Any]:
    """Deleted, or Conflict while members are counted (unless `force`); the entry outlives the campaign."""
    facts = admin.delete_campaign(session, campaign, force=force)
    audit.record(session, actor=actor, action="campaign.delete", target=facts["slug"],
                 details={**facts, **_via(via)}, now=now)
    return facts
