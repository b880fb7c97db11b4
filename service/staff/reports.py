"""The dashboard's numbers, the stats API's payload and the sign-ups CSV's rows.

Everything is read from counters and the daily roll-ups (`campaign_daily`, `widget_daily`, payments'
per-day counters) with GROUP BY in SQL, so its cost follows the number of days and attribution values,
never the number of members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.campaigns import pace
from service.campaigns import services as campaigns
from service.campaigns.models import Campaign, CampaignDaily, CountAdjustment
from service.campaigns.seed import SEEDED_SOURCE
from service.staff import stats, truths
from service.staff.adjustments import list_adjustments


@dataclass
class Dashboard:
    campaign: Campaign
    progress: dict[str, Any]
    first_day: date
    deadline: date
    today: date
    days: list[stats.Day]
    cumulative: list[tuple[date, int]]
    on_track: list[tuple[date, float]]
    projection: list[tuple[date, float]]
    breakdowns: dict[str, list[stats.Share]]
    funnel: list[stats.FunnelStep]
    adjustments: list[CountAdjustment]
    seeded: int = 0  # seeded sign-ups (demo data): in the count, never in the funnel
    outcome: truths.Outcome | None = None  # how an ended campaign ended
    chart_note: str = ""  # why the chart's last point and the headline count differ
    money: dict[str, Any] | None = None  # money_figures(): revenue and contributions per currency


def list_campaigns(session: Session, now: datetime) -> list[dict[str, Any]]:
    out = []
    for c in session.scalars(select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.slug)):
        p = pace.compute(count=c.count, goal=c.goal, starts_at=c.starts_at, ends_at=c.ends_at,
                         timezone=c.timezone, now=now)
        out.append({"campaign": c, "progress": p})
    return out


def daily_rows(session: Session, campaign: Campaign) -> list[tuple[date, int, int]]:
    t = CampaignDaily
    rows = session.execute(
        select(t.day, func.sum(t.joined), func.sum(t.ended)).where(t.campaign_id == campaign.id)
        .group_by(t.day).order_by(t.day))
    return [(d, int(j or 0), int(e or 0)) for d, j, e in rows]


def breakdown_rows(session: Session, campaign: Campaign, dimension: str) -> list[tuple[str, int, int]]:
    t = CampaignDaily
    column = {"plan": t.plan, "source": t.source, "locale": t.locale}[dimension]
    rows = session.execute(
        select(column, func.sum(t.joined), func.sum(t.ended)).where(t.campaign_id == campaign.id)
        .group_by(column))
    return [(k, int(j or 0), int(e or 0)) for k, j, e in rows]


def is_seeded(source: str | None) -> bool:
    return (source or "").split(":")[0] == SEEDED_SOURCE


def funnel_counts(session: Session, campaign: Campaign, signups: int) -> list[stats.FunnelStep]:
    """Impressions and clicks (widget), checkouts started (payments) and sign-ups over the campaign: sign-ups
    from the same roll-ups as the count, seeded ones left out (no reader went through the funnel)."""
    from service.widget.models import WidgetDaily

    impressions = clicks = 0
    for kind, n in session.execute(
            select(WidgetDaily.type, func.sum(WidgetDaily.count))
            .where(WidgetDaily.campaign_id == campaign.id).group_by(WidgetDaily.type)):
        if kind == "impression":
            impressions = int(n or 0)
        elif kind == "click":
            clicks = int(n or 0)
    checkouts = checkout_starts(session, campaign)
    return stats.funnel([("Impressions", impressions), ("Clicks", clicks), ("Checkouts started", checkouts),
                         ("Sign-ups", signups)])


def checkout_starts(session: Session, campaign: Campaign) -> int:
    """Checkouts started for the campaign over its window, from payments' per-day counters."""
    from service.payments.models import CheckoutStart

    first = pace.local_today(campaign.starts_at, "UTC")
    last = pace.last_day(campaign.ends_at, "UTC")
    value = session.scalar(select(func.coalesce(func.sum(CheckoutStart.count), 0)).where(
        CheckoutStart.campaign_id == campaign.id, CheckoutStart.day >= first, CheckoutStart.day <= last))
    return int(value or 0)


@dataclass(frozen=True)
class Aggregates:
    """What the dashboard reads from the roll-ups: grouped rows, small whatever the number of members."""

    daily: list[tuple[date, int, int]]
    breakdowns: dict[str, list[tuple[str, int, int]]]
    funnel: list[stats.FunnelStep]
    seeded: int = 0


def aggregates(session: Session, campaign: Campaign) -> Aggregates:
    daily = daily_rows(session, campaign)
    sources = breakdown_rows(session, campaign, "source")
    seeded = sum(j for k, j, _ in sources if is_seeded(k))
    return Aggregates(daily=daily, breakdowns={"plan": breakdown_rows(session, campaign, "plan"), "source": sources,
                                               "locale": breakdown_rows(session, campaign, "locale")},
                      funnel=funnel_counts(session, campaign, sum(j for _, j, _ in daily) - seeded), seeded=seeded)


def cache_key(campaign: Campaign) -> tuple:
    """The campaign's counter state: any change to its roll-ups changes it (the counter moves updated_at)."""
    return (campaign.id, campaign.updated_at, campaign.members_counted, campaign.adjustments_total)


def dashboard(session: Session, campaign: Campaign, now: datetime, cache: Any = None) -> Dashboard:
    """Everything the dashboard shows. `cache` (an AggregateCache) keeps the grouped roll-up rows per
    counter state, so repeated views of a busy campaign do not re-read its roll-ups."""
    agg = cache.get(cache_key(campaign), lambda: aggregates(session, campaign)) if cache is not None \
        else aggregates(session, campaign)
    payload = campaigns.document_data(session, campaign, None, now)
    first = pace.local_today(campaign.starts_at, campaign.timezone)
    deadline = payload["deadline"]
    today = pace.local_today(now, campaign.timezone)
    days = stats.dense_days(agg.daily, first, deadline)
    adj = list_adjustments(session, campaign)
    by_day: dict[date, int] = {}
    for a in adj:
        d = pace.local_today(a.created_at, campaign.timezone)
        by_day[d] = by_day.get(d, 0) + a.delta
    upto = min(today, deadline)
    cumulative = stats.cumulative([d for d in days if d.day <= upto], by_day) if today >= first else []
    projection = stats.projection_line(today, payload["count"], float(payload["pace"]["daily_average_7d"]),
                                       campaign.goal, deadline) if payload["status"] == "active" else []
    breakdowns = {dim: stats.breakdown(rows) for dim, rows in agg.breakdowns.items()}
    after = [(j, e) for d, j, e in agg.daily if d > deadline]
    note = truths.chart_gap(payload["count"], cumulative, sum(e for _, e in after), sum(j for j, _ in after),
                            sum(v for d, v in by_day.items() if d > deadline))
    return Dashboard(campaign=campaign, progress=payload, first_day=first, deadline=deadline, today=today,
                     days=days, cumulative=cumulative, on_track=stats.on_track_line(first, deadline, campaign.goal),
                     projection=projection, breakdowns=breakdowns, funnel=agg.funnel, adjustments=adj,
                     seeded=agg.seeded, outcome=truths.outcome(payload, deadline), chart_note=note,
                     money=money_figures(session, campaign))


def money_figures(session: Session, campaign: Campaign) -> dict[str, Any]:
    """Over the campaign's window: membership revenue and one-time contributions per currency (never summed
    across currencies), the contributors counted beside the member count (payments/revenue.py), and the gift
    memberships bought in the campaign (sold, redeemed, waiting, refunded)."""
    from service.gifts import refunds
    from service.payments import revenue

    starts, ends = campaign.starts_at, campaign.ends_at
    return {"revenue": revenue.memberships(session, starts, ends),
            "contributions": {"count": campaign.contributors_counted or 0,
                              "by_currency": revenue.contributions(session, starts, ends)},
            "gifts": refunds.summary(session, campaign.slug)}


def signup_rows(session: Session, campaign: Campaign) -> list[tuple[date, str, str, str, int, int]]:
    """Per day, plan, source and locale: sign-ups and cancellations (the CSV export; no personal data)."""
    t = CampaignDaily
    rows = session.execute(
        select(t.day, t.plan, t.source, t.locale, func.sum(t.joined), func.sum(t.ended))
        .where(t.campaign_id == campaign.id)
        .group_by(t.day, t.plan, t.source, t.locale).order_by(t.day, t.plan, t.source, t.locale))
    return [(d, p or "", s or "", loc or "", int(j or 0), int(e or 0)) for d, p, s, loc, j, e in rows]


def stats_payload(session: Session, campaign: Campaign, now: datetime, cache: Any = None) -> dict[str, Any]:
    """The JSON stats for staff tools: the dashboard's numbers as plain data."""
    d = dashboard(session, campaign, now, cache)
    p = d.progress
    cumulative = dict(d.cumulative)
    return {
        "campaign": campaign.slug,
        "title": campaign.title,
        "count": p["count"],
        "goal": p["goal"],
        "remaining": p["remaining"],
        "percent": p["percent"],
        "status": p["status"],
        "days_left": p["days_left"],
        "starts_on": d.first_day,
        "deadline": d.deadline,
        "adjustments_total": campaign.adjustments_total,
        "pace": p["pace"],
        "daily": [{"date": x.day, "joined": x.joined, "ended": x.ended, "cumulative": cumulative.get(x.day)}
                  for x in d.days if x.day <= d.today],
        "breakdowns": {k: [vars(s) for s in v] for k, v in d.breakdowns.items()},
        "funnel": [{"step": s.name, "count": s.count, "rate": s.rate} for s in d.funnel],
        **(d.money or {}),
        "generated_at": now,
    }
