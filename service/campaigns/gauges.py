"""The campaigns' metric gauges (registered with ops, read at scrape time): the banner's count and the goal
per campaign. Plain rows; ops/metrics.py turns them into Prometheus gauges."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.campaigns.counting import total
from service.campaigns.models import Campaign
from service.ops.registry import Gauges


def counts_and_goals(session: Any) -> list[tuple[str, int, int]]:
    """(slug, count, goal) of every campaign; the read is ended here."""
    try:
        rows = session.execute(select(Campaign.slug, Campaign.members_counted, Campaign.adjustments_total,
                                      Campaign.goal)).all()
    finally:
        session.rollback()
    return [(slug, total(counted, adjusted), goal) for slug, counted, adjusted, goal in rows]


CAMPAIGN_GAUGES = Gauges(label="campaign", families=(("campaign_members", "Current count toward the goal"),
                                                      ("campaign_goal", "The campaign's goal")),
                         read=counts_and_goals)
