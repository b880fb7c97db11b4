"""Staff changes to milestones and the stretch goal, each written to the audit log (campaigns.milestones holds
the rules); shared by the staff API, the dashboard's forms and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.campaigns import milestones, pace
from service.campaigns.models import Campaign, Milestone
from service.staff import audit


def add(session: Session, campaign: Campaign, *, at: int, headlines: dict[str, str], show_days: int, actor: str,
        now: datetime) -> Milestone:
    row = milestones.add_milestone(session, campaign, at=at, headlines=headlines, show_days=show_days, who=actor,
                                   now=now)
    audit.record(session, actor=actor, action="milestone.add", target=f"{campaign.slug}/milestones/{at}",
                 campaign=campaign, details={"at": at, "show_days": show_days, "locales": sorted(row.headlines)},
                 now=now)
    return row


def remove(session: Session, campaign: Campaign, milestone_id: int, *, actor: str, now: datetime) -> Milestone:
    row = milestones.remove_milestone(session, campaign, milestone_id, now)
    audit.record(session, actor=actor, action="milestone.remove", target=f"{campaign.slug}/milestones/{row.at}",
                 campaign=campaign, details={"at": row.at}, now=now)
    return row


def stretch(session: Session, campaign: Campaign, *, goal: int, actor: str, now: datetime) -> Campaign:
    before = campaign.goal
    milestones.set_stretch_goal(session, campaign, goal=goal, now=now)
    audit.record(session, actor=actor, action="campaign.stretch_goal", target=campaign.slug, campaign=campaign,
                 details={"from": before, "to": goal, "original_goal": campaign.original_goal}, now=now)
    return campaign


def overview(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The campaign's milestones (each with when it was reached), goals and every crossing."""
    reached = {x.at: x for x in milestones.crossings(session, campaign)}
    return {
        "goal": campaign.goal,
        "original_goal": campaign.original_goal,
        "count": campaign.count,
        "milestones": [{"id": m.id, "at": m.at, "headlines": m.headlines, "show_days": m.show_days,
                        "reached_at": reached[m.at].reached_at if m.at in reached else None}
                       for m in milestones.list_milestones(session, campaign)],
        "crossings": [{"at": x.at, "kind": x.kind, "reached_at": x.reached_at} for x in reached.values()],
    }


def chart_events(session: Session, campaign: Campaign) -> list[tuple[Any, float, str]]:
    """(local day, count, label) of every crossing, for the dashboard's cumulative chart."""
    return [(pace.local_today(x.reached_at, campaign.timezone), float(x.at),
             f"{'Goal' if x.kind == 'goal' else 'Milestone'} {x.at:,}")
            for x in milestones.crossings(session, campaign)]
