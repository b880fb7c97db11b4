"""Campaign, its count adjustments, banner copy and daily roll-ups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.campaigns.counting import total
from service.db import Base

COUNT_MODES = ("net", "gross")
STAGES = ("scheduled", "launch", "momentum", "final_push", "goal_reached", "overtime", "ended")


class Campaign(Base):
    """A drive toward `goal` members in [starts_at, ends_at) (UTC instants of local midnights).

    `members_counted` and `adjustments_total` are counters kept in step with members and adjustments
    in the same transaction, so reading the count is one row, whatever the number of members.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("ends_at > starts_at", name="window_order"),
        CheckConstraint("count_mode IN ('net', 'gross')", name="count_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[int] = mapped_column(Integer)  # the current target (a stretch goal once one is set)
    original_goal: Mapped[int | None] = mapped_column(Integer, default=None)  # the goal a stretch goal replaced
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_locale: Mapped[str] = mapped_column(String(35), default="en")
    count_mode: Mapped[str] = mapped_column(String(8), default="net")
    join_url: Mapped[str] = mapped_column(String(2000), default="")
    members_counted: Mapped[int] = mapped_column(Integer, default=0)
    adjustments_total: Mapped[int] = mapped_column(Integer, default=0)
    # People who gave once in the window, kept by payments/contributions.py on write; never in `count`.
    contributors_counted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]  # archived: 410 on its public endpoints, never the paywall's

    @property
    def count(self) -> int:
        return total(self.members_counted, self.adjustments_total)


class CountAdjustment(Base):
    """A signed correction of the count, e.g. sign-ups taken offline at an event."""

    __tablename__ = "count_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class Milestone(Base):
    """A count staff celebrate on the way (e.g. 10,000): its headline per locale (a copy template, see
    campaigns.wording) shows for `show_days` days after the count first crosses it."""

    __tablename__ = "campaign_milestones"
    __table_args__ = (
        UniqueConstraint("campaign_id", "at"),
        CheckConstraint("at > 0", name="at_positive"),
        CheckConstraint("show_days >= 0", name="show_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[int] = mapped_column(Integer)
    headlines: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # locale -> headline template
    show_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime]


class Crossing(Base):
    """The first time the count reached `at` (a milestone or a goal): one row per (campaign, at), written in
    the transaction that moved the counter (campaigns.milestones.record_crossings), never twice."""

    __tablename__ = "campaign_crossings"
    __table_args__ = (
        UniqueConstraint("campaign_id", "at"),
        CheckConstraint("kind IN ('milestone', 'goal')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reached_at: Mapped[datetime]


class BannerCopy(Base):
    """Templates for one stage of one campaign in one locale (see campaigns.wording for the syntax)."""

    __tablename__ = "banner_copy"
    __table_args__ = (UniqueConstraint("campaign_id", "locale", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    stage: Mapped[str] = mapped_column(String(16))
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    cta_label: Mapped[str] = mapped_column(Text)
    cta_url: Mapped[str] = mapped_column(String(2000), default="")
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime]


class CampaignDaily(Base):
    """Daily roll-up: members who joined (first paid) and whose membership ended on `day`, in the campaign's time
    zone, by plan, locale and source. Sum(joined - ended) == Campaign.members_counted."""

    __tablename__ = "campaign_daily"
    __table_args__ = (UniqueConstraint("campaign_id", "day", "plan", "locale", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str] = mapped_column(String(35), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    joined: Mapped[int] = mapped_column(Integer, default=0)
    ended: Mapped[int] = mapped_column(Integer, default=0)



VARIANT_STATUSES = ("running", "stopped", "promoted")
CONTROL = 0  # the arm that sees the stage's own copy (never a variant id: ids start at 1)


class BannerVariant(Base):
    """Another text for one stage of one campaign in one locale, shown to `weight` percent of readers while
    `running` (see campaigns/experiments.py); `stopped` and `promoted` ones keep their figures."""

    __tablename__ = "banner_variants"
    __table_args__ = (
        UniqueConstraint("campaign_id", "name"),
        CheckConstraint("weight BETWEEN 1 AND 99", name="weight"),
        CheckConstraint("status IN ('running', 'stopped', 'promoted')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(35))
    stage: Mapped[str] = mapped_column(String(16))
    weight: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    cta_label: Mapped[str] = mapped_column(Text)
    cta_url: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


EXPERIMENT_EVENTS = ("impression", "click", "checkout")


class ExperimentDaily(Base):
    """Per arm of a campaign's experiments (`variant_id`, CONTROL for the control) and local day: impressions
    and clicks (widget beacons) and checkouts started. No reader, IP or page is kept."""

    __tablename__ = "experiment_daily"
    __table_args__ = (
        UniqueConstraint("campaign_id", "variant_id", "day", "type"),
        CheckConstraint("type IN ('impression', 'click', 'checkout')", name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(Integer)  # no foreign key: CONTROL is 0
    day: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=0)
