"""Campaign use cases: create, adjust, edit copy, and the data of the progress document (see serving.py)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import urls
from service.campaigns import builtin, count_storage, locales, milestones, pace, wording
from service.campaigns.models import COUNT_MODES, STAGES, BannerCopy, Campaign, CampaignDaily, CountAdjustment
from service.errors import Conflict, Gone, Invalid, NotFound

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_GOAL = 1_000_000_000
MAX_ADJUSTMENT = 1_000_000
log = logging.getLogger(__name__)

# Stages without copy of their own borrow it from the next stage in this chain.
STAGE_FALLBACK = {
    "final_push": "momentum", "momentum": "launch", "goal_reached": "launch",
    "ended": "launch", "scheduled": "launch",
}
GENERIC_COPY = builtin.builtin_copy("en", "launch")[1]
COPY_LABELS = {"headline": "Headline", "body": "Body", "cta_label": "Call to action", "cta_url": "Link"}


def get_campaign(session: Session, slug: str) -> Campaign:
    # A slug that cannot exist (too long, NUL bytes that PostgreSQL refuses, ...) is not looked up.
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug)) if SLUG_RE.match(slug) else None
    if campaign is None:
        raise NotFound(f"No campaign with slug '{slug[:64]}'.")
    return campaign


def get_public_campaign(session: Session, slug: str) -> Campaign:
    """The campaign a public endpoint serves: NotFound for an unknown slug, Gone (410) for an archived one."""
    campaign = get_campaign(session, slug)
    if campaign.archived_at is not None:
        raise Gone(f"The campaign '{campaign.slug}' has ended and was archived.")
    return campaign


def window_bounds(starts: date, ends: date, timezone: str) -> tuple[datetime, datetime]:
    """Local midnight of the first day to local midnight after the last day, as UTC instants."""
    tz = ZoneInfo(timezone)
    return (datetime.combine(starts, time(0), tz).astimezone(ZoneInfo("UTC")),
            datetime.combine(ends + timedelta(days=1), time(0), tz).astimezone(ZoneInfo("UTC")))


def validate_settings(*, slug: str | None = None, goal: int | None = None, starts: date | None = None,
                      ends: date | None = None, timezone: str | None = None, locale: str | None = None,
                      count_mode: str | None = None, title: str | None = None, join_url: str | None = None,
                      require_https: bool = False) -> None:
    if slug is not None and not SLUG_RE.match(slug):
        raise Invalid("slug must be 1-64 lower-case letters, digits and hyphens, not starting or ending with '-'.")
    if title is not None and not (0 < len(title.strip()) <= 200):
        raise Invalid("title must be 1-200 characters.")
    if goal is not None and not (0 < goal <= MAX_GOAL):
        raise Invalid(f"goal must be a whole number from 1 to {MAX_GOAL:,}.")
    if starts is not None and ends is not None and ends < starts:
        raise Invalid("the campaign must end on or after the day it starts.")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(f"unknown time zone '{timezone}' (use an IANA name such as Europe/Kyiv).") from exc
    if locale is not None and locales.normalize_locale(locale) is None:
        raise Invalid(f"unknown locale '{locale}' (use a tag such as en or uk).")
    if count_mode is not None and count_mode not in COUNT_MODES:
        raise Invalid("count mode must be 'net' or 'gross'.")
    if join_url:  # empty: the banner links to the paywall's join URL
        try:
            urls.http_url(join_url, require_https=require_https)
        except ValueError as exc:
            raise Invalid(f"join URL: {exc}", errors={"join_url": [str(exc)]}) from exc


def create_campaign(session: Session, *, slug: str, title: str, goal: int, starts: date, ends: date,
                    now: datetime, timezone: str = "UTC", locale: str = "en", count_mode: str = "net",
                    join_url: str = "", require_https: bool = False) -> Campaign:
    join_url = (join_url or "").strip()
    validate_settings(slug=slug, title=title, goal=goal, starts=starts, ends=ends, timezone=timezone,
                      locale=locale, count_mode=count_mode, join_url=join_url, require_https=require_https)
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        raise Conflict(f"A campaign with slug '{slug}' exists already.")
    starts_at, ends_at = window_bounds(starts, ends, timezone)
    campaign = Campaign(slug=slug, title=title.strip(), goal=goal, starts_at=starts_at, ends_at=ends_at,
                        timezone=timezone, default_locale=locales.normalize_locale(locale) or "en",
                        count_mode=count_mode, join_url=join_url, members_counted=0, adjustments_total=0,
                        created_at=now, updated_at=now)
    session.add(campaign)
    session.flush()
    count_storage.recount(session, campaign, now)  # members who paid inside the window before it was created
    return campaign


def adjust(session: Session, campaign: Campaign, *, delta: int, reason: str, who: str,
           now: datetime) -> CountAdjustment:
    if delta == 0 or abs(delta) > MAX_ADJUSTMENT:
        raise Invalid(f"delta must be a non-zero whole number between -{MAX_ADJUSTMENT:,} and {MAX_ADJUSTMENT:,}.")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise Invalid("an adjustment needs a reason of 1-500 characters.")
    row = CountAdjustment(campaign_id=campaign.id, delta=delta, reason=reason, created_by=who, created_at=now)
    session.add(row)
    session.execute(
        Campaign.__table__.update().where(Campaign.__table__.c.id == campaign.id).values(
            adjustments_total=Campaign.__table__.c.adjustments_total + delta, updated_at=now)
    )
    milestones.record_crossings(session.connection(), campaign.id, now)
    session.flush()
    session.expire(campaign, ["adjustments_total", "updated_at"])
    return row


def set_copy(session: Session, campaign: Campaign, *, locale: str, stage: str, headline: str, body: str,
             cta_label: str, cta_url: str = "", who: str = "", now: datetime,
             require_https: bool = False) -> BannerCopy:
    """Store the copy of one stage in one locale, refused (every field's problem in a sentence) unless each
    template renders for the numbers a banner meets and the CTA link is an http(s) URL."""
    norm = locales.normalize_locale(locale)
    if norm is None:
        raise Invalid(f"unknown locale '{locale}'.")
    if stage not in STAGES:
        raise Invalid(f"unknown stage '{stage}' (use one of {', '.join(STAGES)}).")
    cta_url = (cta_url or "").strip()
    errors = copy_errors(campaign, norm, {"headline": headline, "body": body, "cta_label": cta_label,
                                          "cta_url": cta_url}, require_https=require_https)
    if errors:
        raise Invalid(" ".join(f"{COPY_LABELS[k]}: {v}" for k, v in errors.items()),
                      errors={k: [v] for k, v in errors.items()})
    row = session.scalar(select(BannerCopy).where(
        BannerCopy.campaign_id == campaign.id, BannerCopy.locale == norm, BannerCopy.stage == stage))
    if row is None:
        row = BannerCopy(campaign_id=campaign.id, locale=norm, stage=stage, headline="", body="", cta_label="",
                         updated_at=now)
        session.add(row)
    row.headline, row.body, row.cta_label, row.cta_url = headline, body, cta_label, cta_url
    row.updated_by, row.updated_at = who, now
    session.flush()
    return row


def copy_errors(campaign: Campaign, locale: str, fields: dict[str, str], *, require_https: bool = False
                ) -> dict[str, str]:
    """Field -> one sentence saying why it cannot be stored (empty when all can): each template is rendered for
    every stage's sample numbers and the campaign's deadline in `locale`; the link must pass urls.http_url."""
    samples = wording.sample_values(campaign.goal, pace.last_day(campaign.ends_at, campaign.timezone))
    errors: dict[str, str] = {}
    for name in ("headline", "body", "cta_label"):
        template = fields.get(name, "")
        if len(template) > 2000:
            errors[name] = "It is longer than 2,000 characters."
            continue
        try:
            wording.check(template, locale, samples)
        except wording.TemplateError as exc:
            errors[name] = _sentence(str(exc))
    if fields.get("cta_url"):  # empty: the campaign's join URL
        try:
            urls.http_url(fields["cta_url"], require_https=require_https)
        except ValueError as exc:
            errors["cta_url"] = f"{exc} Use a full https://… link, or leave it empty for the campaign's join URL."
    return errors


def _sentence(message: str) -> str:
    return message if message.endswith((".", "!", "?")) else message + "."


def net_last_7d(session: Session, campaign: Campaign, now: datetime) -> int:
    first, _ = pace.average_window(now, campaign.starts_at, campaign.timezone)
    value = session.scalar(
        select(func.coalesce(func.sum(CampaignDaily.joined - CampaignDaily.ended), 0))
        .where(CampaignDaily.campaign_id == campaign.id, CampaignDaily.day >= first)
    )
    return int(value or 0)


def pick_copy(rows: list[BannerCopy], locale: str | None, default_locale: str, stage: str
              ) -> tuple[str, dict[str, str]]:
    """The copy for a stage in the best locale we have; never fails (generic English at worst)."""
    by_key = {(r.locale, r.stage): r for r in rows}
    for loc in locales.candidates(locale, default_locale):
        s: str | None = stage
        while s is not None:
            row = by_key.get((loc, s))
            if row is not None:
                return loc, {"headline": row.headline, "body": row.body, "cta_label": row.cta_label,
                             "cta_url": row.cta_url}
            s = STAGE_FALLBACK.get(s)
    if stage == "overtime":  # copy that speaks of the stretch goal, in the reader's language when we have it
        used, templates = builtin.builtin_copy(locale or default_locale, stage)
        return used, {**templates, "cta_url": ""}
    return "en", {**GENERIC_COPY, "cta_url": ""}


def banner_link(*candidates: str | None) -> str:
    """The first candidate (copy's CTA URL, then the campaign's join URL) that is an http(s) URL, else ''."""
    return next((u.strip() for u in candidates if u and urls.is_http_url(u.strip())), "")


def render_banner(templates: dict[str, str], locale: str, p: pace.Pace, join_url: str,
                  campaign: str = "") -> dict[str, str]:
    """The banner's text and link. Copy that no longer renders (saved before `set_copy` checked it, or refused
    by a newer Babel) is logged and replaced by the built-in copy of the stage; a link that is not http(s)
    (an old row) is dropped for the next one, so `javascript:` never reaches a page."""
    values = wording.Values.from_pace(p)
    try:
        out = {name: wording.render(templates[name], values, locale) for name in ("headline", "body", "cta_label")}
    except wording.TemplateError as exc:
        log.error("banner copy of campaign %s (%s, %s) cannot be rendered, built-in copy shown: %s",
                  campaign, locale, p.stage, exc)
        locale, fallback = builtin.builtin_copy(locale, p.stage)
        out = {name: wording.render(fallback[name], values, locale) for name in ("headline", "body", "cta_label")}
    out["cta_url"] = banner_link(templates.get("cta_url"), join_url)
    out["locale"] = locale.replace("_", "-")
    out["dir"] = locales.text_direction(locale)
    return out


def document_data(session: Session, campaign: Campaign, locale: str | None, now: datetime,
                  copies: list[BannerCopy] | None = None) -> dict[str, Any]:
    """Everything the banner needs, as plain data (serialized by ProgressSchema): the progress document."""
    p = pace.compute(count=campaign.count, goal=campaign.goal, starts_at=campaign.starts_at,
                     ends_at=campaign.ends_at, timezone=campaign.timezone, now=now,
                     net_last_7d=net_last_7d(session, campaign, now), original_goal=campaign.original_goal,
                     contributors=campaign.contributors_counted or 0)
    if copies is None:
        copies = list(session.scalars(select(BannerCopy).where(BannerCopy.campaign_id == campaign.id)))
    used_locale, templates = pick_copy(copies, locale, campaign.default_locale, p.stage)
    updated_at = max([campaign.updated_at, *(c.updated_at for c in copies)])
    data = {
        "campaign": campaign.slug,
        "title": campaign.title,
        "goal": p.goal,
        "count": p.count,
        "remaining": p.remaining,
        "percent": p.percent,
        "percent_of_goal": p.percent_of_goal,
        "status": p.status,
        "stage": p.stage,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "deadline": p.deadline,
        "timezone": campaign.timezone,
        "days_left": p.days_left,
        "hours_left": p.hours_left,
        "contributions": {"count": p.contributors},
        "pace": {
            "daily_needed": p.daily_needed,
            "daily_average_7d": p.daily_average_7d,
            "projected_reach_date": p.projected_reach_date,
        },
        "banner": _banner(session, campaign, copies, used_locale, templates, p),
        "updated_at": updated_at,
    }
    fields, headline = milestones.document_fields(session, campaign, p, data["banner"]["locale"], now)
    if headline is not None:
        data["banner"]["headline"] = headline  # a milestone is being celebrated
    return {**data, **fields}


def _banner(session: Session, campaign: Campaign, copies: list[BannerCopy], locale: str, templates: dict[str, str],
            p: pace.Pace) -> dict[str, Any]:
    """The control's banner and, while an experiment runs, `variants` rendered the same way (variants.py)."""
    from service.campaigns import variants  # variants builds on this module

    def render(t: dict[str, str]) -> dict[str, str]:
        return render_banner(t, locale, p, campaign.join_url, campaign.slug)

    banner = render(templates)
    running = variants.for_banner(session, campaign, copies, locale, p.stage, render)
    return {**banner, "variants": running} if running else banner
