"""The campaigns' metric gauges, read at scrape time (ops/metrics.py asks every registered source)."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select

from service.campaigns.counting import total
from service.campaigns.models import Campaign


def campaign_gauges(session: Any) -> list[Metric]:
    """`campaign_members` (the banner's count) and `campaign_goal` per campaign; no samples when `session` is
    None (the database did not answer)."""
    count = GaugeMetricFamily("campaign_members", "Current count toward the goal", labels=["campaign"])
    goal = GaugeMetricFamily("campaign_goal", "The campaign's goal", labels=["campaign"])
    if session is not None:
        try:
            rows = session.execute(select(Campaign.slug, Campaign.members_counted, Campaign.adjustments_total,
                                          Campaign.goal)).all()
        finally:
            session.rollback()
        for slug, counted, adjusted, target in rows:
            count.add_metric([slug], total(counted, adjusted))
            goal.add_metric([slug], target)
    return [count, goal]
