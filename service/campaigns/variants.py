"""Copy variants of a campaign (no Flask): adding, stopping, reweighting, promoting and deleting them; the
variants the progress document lists; and the per-arm counters (impressions, clicks, checkouts).

Rules (the assignment and the verdict are campaigns/experiments.py):
- A variant is another text for one stage in one locale, validated exactly like the stage's copy
  (services.copy_errors: every template renders for every stage's sample numbers; the link is an http(s)
  URL). Its weight is the whole percent of readers who see it (1-99); the running variants of a stage and
  locale weigh at most 99 together, so the control is always shown to some readers.
- The progress document lists the running variants of the copy the banner shows: those of the current
  stage, or, when that stage has neither copy nor variants of its own in the locale shown, of the stage it
  borrows its copy from (services.STAGE_FALLBACK).
- Stopping keeps a variant's figures (and its sign-ups); promoting makes its text the stage's copy and ends
  the experiment of that stage and locale (every running variant of it stops); deleting removes the variant
  and its counters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.campaigns import locales, services
from service.campaigns.models import (
    CONTROL,
    STAGES,
    BannerCopy,
    BannerVariant,
    Campaign,
    ExperimentDaily,
)
from service.errors import Conflict, Invalid, NotFound

MAX_TOTAL_WEIGHT = 99
TEXT_FIELDS = ("headline", "body", "cta_label", "cta_url")


def check_weight(weight: Any) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_TOTAL_WEIGHT:
        raise Invalid(f"weight must be a whole percent from 1 to {MAX_TOTAL_WEIGHT}.", errors={"weight": ["1-99"]})
    return weight


def _check_room(session: Session, campaign: Campaign, locale: str, stage: str, weight: int,
                other_than: int | None = None) -> None:
    taken = session.scalar(select(func.coalesce(func.sum(BannerVariant.weight), 0)).where(
        BannerVariant.campaign_id == campaign.id, BannerVariant.locale == locale, BannerVariant.stage == stage,
        BannerVariant.status == "running", BannerVariant.id != (other_than or 0))) or 0
    if taken + weight > MAX_TOTAL_WEIGHT:
        raise Conflict(f"The running variants of {stage} in {locale} would weigh {taken + weight}%: together they "
                       f"may weigh at most {MAX_TOTAL_WEIGHT}%, so that the control keeps some readers. Lower a "
                       "weight or stop a variant first.")


def add(session: Session, campaign: Campaign, *, name: str, weight: int, locale: str, stage: str, headline: str,
        body: str, cta_label: str, cta_url: str = "", who: str = "", now: datetime,
        require_https: bool = False) -> BannerVariant:
    """A running variant, refused (422, every field's problem in a sentence) unless it is valid copy."""
    name = (name or "").strip()
    if not 0 < len(name) <= 64:
        raise Invalid("a variant needs a name of 1-64 characters.", errors={"name": ["1-64 characters"]})
    weight = check_weight(weight)
    norm = locales.normalize_locale(locale)
    if norm is None:
        raise Invalid(f"unknown locale '{locale[:35]}'.", errors={"locale": ["unknown"]})
    if stage not in STAGES:
        raise Invalid(f"unknown stage '{stage[:16]}' (use one of {', '.join(STAGES)}).", errors={"stage": ["unknown"]})
    fields = {"headline": headline, "body": body, "cta_label": cta_label, "cta_url": (cta_url or "").strip()}
    errors = services.copy_errors(campaign, norm, fields, require_https=require_https)
    if errors:
        raise Invalid(" ".join(f"{services.COPY_LABELS[k]}: {v}" for k, v in errors.items()),
                      errors={k: [v] for k, v in errors.items()})
    if session.scalar(select(BannerVariant.id).where(BannerVariant.campaign_id == campaign.id,
                                                     BannerVariant.name == name)) is not None:
        raise Conflict(f"Campaign {campaign.slug} has a variant named '{name}' already.")
    _check_room(session, campaign, norm, stage, weight)
    row = BannerVariant(campaign_id=campaign.id, name=name, locale=norm, stage=stage, weight=weight,
                        status="running", created_by=who, created_at=now, updated_at=now, **fields)
    session.add(row)
    session.flush()
    return row


def get(session: Session, campaign: Campaign, variant_id: int) -> BannerVariant:
    row = session.get(BannerVariant, variant_id) if 0 < variant_id < 2**31 else None
    if row is None or row.campaign_id != campaign.id:
        raise NotFound(f"Campaign {campaign.slug} has no variant {variant_id}.")
    return row


def list_for(session: Session, campaign: Campaign, locale: str | None = None,
             stage: str | None = None) -> list[BannerVariant]:
    query = select(BannerVariant).where(BannerVariant.campaign_id == campaign.id)
    if locale is not None:
        query = query.where(BannerVariant.locale == (locales.normalize_locale(locale) or locale))
    if stage is not None:
        query = query.where(BannerVariant.stage == stage)
    return list(session.scalars(query.order_by(BannerVariant.id)))


def set_weight(session: Session, campaign: Campaign, row: BannerVariant, weight: int, now: datetime) -> None:
    weight = check_weight(weight)
    if row.status == "running":
        _check_room(session, campaign, row.locale, row.stage, weight, other_than=row.id)
    row.weight, row.updated_at = weight, now
    session.flush()


def set_status(session: Session, campaign: Campaign, row: BannerVariant, status: str, now: datetime) -> None:
    """`stopped` (readers no longer see it; its figures stay) or `running` again (if the weights allow)."""
    if status not in ("running", "stopped"):
        raise Invalid("status must be 'running' or 'stopped' (promote a variant to make it the copy).",
                      errors={"status": ["running or stopped"]})
    if status == "running" and row.status != "running":
        _check_room(session, campaign, row.locale, row.stage, row.weight, other_than=row.id)
    if row.status != status:
        row.status, row.updated_at = status, now
        session.flush()


def promote(session: Session, campaign: Campaign, row: BannerVariant, *, who: str, now: datetime,
            require_https: bool = False) -> BannerCopy:
    """The variant's text becomes the copy of its stage and locale (validated by set_copy); the experiment of
    that stage and locale ends: this variant is `promoted`, every other running one `stopped`."""
    copy = services.set_copy(session, campaign, locale=row.locale, stage=row.stage, headline=row.headline,
                             body=row.body, cta_label=row.cta_label, cta_url=row.cta_url, who=who, now=now,
                             require_https=require_https)
    for other in list_for(session, campaign, row.locale, row.stage):
        if other.status == "running":
            other.status, other.updated_at = "stopped", now
    row.status, row.updated_at = "promoted", now
    session.flush()
    return copy


def remove(session: Session, campaign: Campaign, row: BannerVariant) -> None:
    """The variant and its counters are gone (subscriptions keep their variant id, no longer reported)."""
    session.execute(delete(ExperimentDaily).where(ExperimentDaily.campaign_id == campaign.id,
                                                  ExperimentDaily.variant_id == row.id))
    session.delete(row)
    session.flush()


# --- the progress document ------------------------------------------------------------------------------

def for_banner(session: Session, campaign: Campaign, copies: list[BannerCopy], locale: str, stage: str,
               render: Callable[[dict[str, str]], dict[str, str]]) -> list[dict[str, Any]]:
    """`banner.variants`: the running variants of the copy the banner shows (see the module docstring), each
    rendered by `render` (the control's own render path and fallbacks), in id order."""
    running = list(session.scalars(select(BannerVariant).where(
        BannerVariant.campaign_id == campaign.id, BannerVariant.status == "running",
        BannerVariant.locale == locale).order_by(BannerVariant.id)))
    if not running:
        return []
    own_copy = {c.stage for c in copies if c.locale == locale}
    s: str | None = stage
    while s is not None:
        chosen = [v for v in running if v.stage == s]
        if chosen:
            break
        if s in own_copy:
            return []
        s = services.STAGE_FALLBACK.get(s)
    else:
        return []
    out = []
    for v in chosen:
        text = render({name: getattr(v, name) for name in TEXT_FIELDS})
        out.append({"id": v.id, "weight": v.weight, **{k: text[k] for k in TEXT_FIELDS}})
    return out


# --- counters ---------------------------------------------------------------------------------------------

def counted_arm(session: Session, campaign: Campaign, variant_id: int | None) -> int | None:
    """The arm a beacon or checkout names, if it is one: a running variant of this campaign, or CONTROL while
    the campaign has one. Anything else (a stopped or unknown variant, from a page cached before) is None."""
    if variant_id is None:
        return None
    query = select(BannerVariant.id).where(BannerVariant.campaign_id == campaign.id,
                                           BannerVariant.status == "running")
    if variant_id != CONTROL:
        if not 0 < variant_id < 2**31:
            return None
        query = query.where(BannerVariant.id == variant_id)
    return variant_id if session.scalar(query.limit(1)) is not None else None


def count(session: Session, campaign: Campaign, variant_id: int, type_: str, now: datetime) -> None:
    """Add one to an arm's counter of the campaign's local day (as its roll-ups): one INSERT ... ON CONFLICT
    DO UPDATE, safe under concurrency."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ExperimentDaily.__table__
    day = now.astimezone(ZoneInfo(campaign.timezone)).date()
    stmt = dialect.insert(table).values(campaign_id=campaign.id, variant_id=variant_id, day=day, type=type_,
                                        count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["campaign_id", "variant_id", "day", "type"],
                                      set_={"count": table.c.count + 1})
    session.execute(stmt)
