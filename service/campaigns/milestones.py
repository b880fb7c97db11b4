"""Milestones, stretch goals and the crossings of both (no Flask).

- A milestone is a count staff celebrate on the way (0 < at, one per count and campaign), with a headline
  per locale (a copy template, campaigns.wording: `{milestone}` is its number). For `show_days` days after
  the count first reached it, that headline replaces the banner's (the highest such milestone wins; a
  locale without a headline of its own gets the built-in one).
- A crossing is the first time the count (members + adjustments) reached a milestone or a goal (the goal,
  then a stretch goal). `record_crossings` writes it in the transaction that moved the counter (called
  where the counter changes: count_storage and services.adjust): one row per (campaign, at), unique in
  the database, so a count that dips below and comes back writes nothing new and keeps the first time.
  A milestone added at or under the current count is recorded as reached when it is added.
- A stretch goal replaces a reached goal by a larger one before the window ends: `goal` is the new target,
  `original_goal` keeps the first; the stage is `overtime` until the stretch goal is reached (pace.py).
- The progress document gets `milestones: {reached: [{at, reached_at}], next: {at, remaining} | null,
  celebrating: {at, until} | null}` and `original_goal` (`document_fields`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.campaigns import builtin, locales, pace, wording
from service.campaigns.counting import total
from service.campaigns.models import Campaign, Crossing, Milestone
from service.db import aware
from service.errors import Conflict, Invalid, NotFound

MAX_SHOW_DAYS = 365
MAX_MILESTONES = 50


def due(count: int, targets: dict[int, str], recorded: Iterable[int]) -> list[tuple[int, str]]:
    """(at, kind) of the targets the count has reached that have no crossing yet, lowest first (pure)."""
    done = set(recorded)
    return sorted((at, kind) for at, kind in targets.items() if at <= count and at not in done)


def record_crossings(conn: Connection, campaign_id: int, now: datetime) -> list[int]:
    """Write a crossing for each milestone or goal the campaign's count has reached for the first time (call
    after changing the counter, on the same connection: the campaign row is locked by that update)."""
    c = Campaign.__table__.c
    row = conn.execute(select(c.members_counted, c.adjustments_total, c.goal, c.original_goal)
                       .where(c.id == campaign_id)).one()
    count = total(row.members_counted, row.adjustments_total)
    targets = {at: "milestone" for at in conn.execute(
        select(Milestone.at).where(Milestone.campaign_id == campaign_id, Milestone.at <= count)).scalars()}
    for goal in (row.original_goal, row.goal):
        if goal is not None and goal <= count:
            targets[goal] = "goal"
    if not targets:
        return []
    recorded = conn.execute(select(Crossing.at).where(Crossing.campaign_id == campaign_id,
                                                      Crossing.at <= count)).scalars()
    new = due(count, targets, recorded)
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for at, kind in new:
        conn.execute(maker(Crossing.__table__)
                     .values(campaign_id=campaign_id, at=at, kind=kind, reached_at=now)
                     .on_conflict_do_nothing(index_elements=["campaign_id", "at"]))
    return [at for at, _ in new]


def crossings(session: Session, campaign: Campaign) -> list[Crossing]:
    return list(session.scalars(select(Crossing).where(Crossing.campaign_id == campaign.id)
                                .order_by(Crossing.at)))


def list_milestones(session: Session, campaign: Campaign) -> list[Milestone]:
    return list(session.scalars(select(Milestone).where(Milestone.campaign_id == campaign.id)
                                .order_by(Milestone.at)))


def _check_headlines(campaign: Campaign, headlines: dict[str, str]) -> dict[str, str]:
    """Headlines keyed by normalised locale, each checked like banner copy (Invalid names the problems)."""
    out: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    samples = wording.sample_values(campaign.goal, pace.last_day(campaign.ends_at, campaign.timezone))
    for locale, template in (headlines or {}).items():
        norm = locales.normalize_locale(locale)
        if norm is None:
            errors[str(locale)[:35]] = [f"unknown locale '{str(locale)[:35]}' (use a tag such as en or uk)."]
            continue
        template = (template or "").strip()
        if not template or len(template) > 500:
            errors[norm] = ["a headline is 1-500 characters."]
            continue
        try:
            wording.check(template, norm, samples)
        except wording.TemplateError as exc:
            errors[norm] = [str(exc)]
            continue
        out[norm] = template
    if errors:
        raise Invalid("Headline: " + " ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)
    return out


def add_milestone(session: Session, campaign: Campaign, *, at: int, headlines: dict[str, str], show_days: int,
                  who: str, now: datetime) -> Milestone:
    """A new milestone (Conflict if the campaign has one at that count); reached now if the count is there."""
    if not (0 < at <= 1_000_000_000):
        raise Invalid("a milestone is a whole number of members from 1 to 1,000,000,000.", errors={"at": ["range"]})
    if not (0 <= show_days <= MAX_SHOW_DAYS):
        raise Invalid(f"show_days is 0-{MAX_SHOW_DAYS}.", errors={"show_days": ["range"]})
    checked = _check_headlines(campaign, headlines)
    existing = list_milestones(session, campaign)
    if any(m.at == at for m in existing):
        raise Conflict(f"The campaign has a milestone at {at:,} already.")
    if len(existing) >= MAX_MILESTONES:
        raise Invalid(f"a campaign has at most {MAX_MILESTONES} milestones.")
    row = Milestone(campaign_id=campaign.id, at=at, headlines=checked, show_days=show_days, created_by=who,
                    created_at=now)
    session.add(row)
    session.flush()
    record_crossings(session.connection(), campaign.id, now)
    _touch(session, campaign, now)
    return row


def remove_milestone(session: Session, campaign: Campaign, milestone_id: int, now: datetime) -> Milestone:
    """Delete a milestone; its crossing stays when it is a goal's too, and goes otherwise."""
    row = session.get(Milestone, milestone_id)
    if row is None or row.campaign_id != campaign.id:
        raise NotFound(f"No milestone {milestone_id} in campaign '{campaign.slug}'.")
    session.delete(row)
    session.execute(delete(Crossing).where(Crossing.campaign_id == campaign.id, Crossing.at == row.at,
                                           Crossing.kind == "milestone"))
    _touch(session, campaign, now)
    session.flush()
    return row


def set_stretch_goal(session: Session, campaign: Campaign, *, goal: int, now: datetime) -> Campaign:
    """Replace the reached goal by a larger one (Conflict before the goal is reached or after the window)."""
    if campaign.count < campaign.goal:
        raise Conflict(f"A stretch goal can be set once the goal is reached ({campaign.count:,} of "
                       f"{campaign.goal:,} so far).")
    if now >= campaign.ends_at:
        raise Conflict("The campaign has ended: its goal can no longer change.")
    if not (campaign.goal < goal <= 1_000_000_000):
        raise Invalid(f"a stretch goal is larger than the current goal ({campaign.goal:,}).",
                      errors={"goal": ["too small"]})
    if campaign.original_goal is None:
        campaign.original_goal = campaign.goal
    campaign.goal = goal
    campaign.updated_at = now
    session.flush()
    return campaign


def _touch(session: Session, campaign: Campaign, now: datetime) -> None:
    campaign.updated_at = now  # the progress document's updated_at (its cache entry is renewed by the ttl)


def _headline_template(milestone: Milestone, banner_locale: str, default_locale: str) -> tuple[str, str]:
    """The milestone's headline in the language of the banner it goes into: its own in that locale (or
    language), else the built-in one in that language, else its own in the campaign's default locale."""
    norm = banner_locale.replace("-", "_")
    for loc in (norm, norm.split("_")[0]):
        if loc in milestone.headlines:
            return loc, milestone.headlines[loc]
    language = builtin.language_of(norm, builtin.MILESTONE_HEADLINE)
    if language == norm.split("_")[0] or default_locale not in milestone.headlines:
        return language, builtin.MILESTONE_HEADLINE[language]
    return default_locale, milestone.headlines[default_locale]


def document_fields(session: Session, campaign: Campaign, p: pace.Pace, banner_locale: str, now: datetime
                    ) -> tuple[dict[str, Any], str | None]:
    """The progress document's `original_goal` and `milestones`, and the headline of the milestone being
    celebrated (None when none is), rendered in the locale of the banner's copy."""
    pairs = session.execute(  # one statement: the document is rendered on every cache miss
        select(Milestone, Crossing.reached_at)
        .outerjoin(Crossing, and_(Crossing.campaign_id == Milestone.campaign_id, Crossing.at == Milestone.at))
        .where(Milestone.campaign_id == campaign.id).order_by(Milestone.at)).all()
    rows = [m for m, _ in pairs]
    reached = {m.at: aware(at) for m, at in pairs if at is not None}
    upcoming = [m.at for m in rows if m.at not in reached and m.at > p.count]
    celebrating = None
    for m in reversed(rows):
        at = reached.get(m.at)
        if at is not None and m.show_days and now < at + timedelta(days=m.show_days):
            celebrating = (m, at + timedelta(days=m.show_days))
            break
    fields: dict[str, Any] = {
        "original_goal": campaign.original_goal,
        "milestones": {
            "reached": [{"at": m.at, "reached_at": reached[m.at]} for m in rows if m.at in reached],
            "next": {"at": upcoming[0], "remaining": upcoming[0] - p.count} if upcoming else None,
            "celebrating": {"at": celebrating[0].at, "until": celebrating[1]} if celebrating else None,
        },
    }
    if celebrating is None:
        return fields, None
    loc, template = _headline_template(celebrating[0], banner_locale, campaign.default_locale)
    try:
        headline = wording.render(template, wording.Values.from_pace(p, milestone=celebrating[0].at), loc)
    except wording.TemplateError:
        return fields, None  # the stage's headline stays
    return fields, headline
