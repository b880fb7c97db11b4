"""Count adjustments made by staff (the dashboard's form or the CLI), each one audited, and their list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns import services as campaigns
from service.campaigns.models import Campaign, CountAdjustment
from service.staff import audit


def add_adjustment(session: Session, campaign: Campaign, *, delta: int, reason: str, actor: str,
                   now: datetime, via: str = "") -> CountAdjustment:
    """`actor`: a staff member's email, or who ran the CLI (`via="cli"`)."""
    row = campaigns.adjust(session, campaign, delta=delta, reason=reason, who=actor, now=now)
    audit.record(session, actor=actor, action="adjustment.add", target=campaign.slug, campaign=campaign,
                 details={"delta": delta, "reason": row.reason, **({"via": via} if via else {})}, now=now)
    return row


def list_adjustments(session: Session, campaign: Campaign) -> list[CountAdjustment]:
    """The campaign's adjustments, newest first (the dashboard lists them)."""
    return list(session.scalars(select(CountAdjustment).where(CountAdjustment.campaign_id == campaign.id)
                                .order_by(CountAdjustment.created_at.desc(), CountAdjustment.id.desc())))
