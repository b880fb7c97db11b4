"""What the join page shows (no Flask): the campaign and its progress in the reader's language, the plans
with their prices, and the links that checkout returns to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns import serving
from service.campaigns.models import Campaign
from service.errors import NotFound
from service.join import texts
from service.join.plans import Plan
from service.paywall import campaign_choice


@dataclass(frozen=True)
class PlanChoice:
    name: str
    label: str
    price: str
    plan: Plan


@dataclass
class JoinPage:
    lang: str
    campaign: str | None
    progress: dict[str, Any] | None
    plans: list[PlanChoice]
    selected: str | None
    return_url: str = ""
    article: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # room for more controls (amounts, gifts)

    def t(self, key: str, **values: Any) -> str:
        return texts.text(self.lang, key, **values)

    @property
    def progress_text(self) -> str:
        p = self.progress or {}
        return self.t("progress", count=texts.number(p.get("count", 0), self.lang),
                      goal=texts.number(p.get("goal", 0), self.lang))


def choose_language(requested: str | None, accepted: str | None, campaign_default: str | None) -> str:
    """The `locale` parameter if the page speaks it, else the browser's best (Accept-Language), else the
    campaign's default locale, else English."""
    for tag in (requested, accepted, campaign_default):
        lang = texts.language_of(tag)
        if lang:
            return lang
    return "en"


def find_campaign(session: Session, requested: str | None, configured: str, now: datetime
                  ) -> tuple[str, str] | None:
    """(slug, default locale) of the campaign a sign-up is attributed to, never an archived one: the requested
    one if it exists, else the paywall's campaign for the site (campaign_choice: chosen on the dashboard, else
    PAYWALL_CAMPAIGN, else the only running one), else the running campaign that started last."""
    columns = select(Campaign.slug, Campaign.default_locale).where(Campaign.archived_at.is_(None))
    for slug in (requested, campaign_choice.load(session, configured, now).default):
        if slug:
            row = session.execute(columns.where(Campaign.slug == slug[:64])).first()
            if row is not None:
                return row[0], row[1]
    row = session.execute(columns.where(Campaign.starts_at <= now, Campaign.ends_at > now)
                          .order_by(Campaign.starts_at.desc(), Campaign.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def progress(session: Session, cache: Any, slug: str | None, lang: str, now: datetime) -> dict[str, Any] | None:
    """The campaign's progress document (the one every surface serves) in the page's language."""
    if not slug:
        return None
    try:
        return serving.progress_document(session, cache, slug, lang, now).data
    except NotFound:
        return None


def plan_choices(plans: list[Plan], lang: str) -> list[PlanChoice]:
    return [PlanChoice(p.name, texts.plan_name(p, lang), texts.price_text(p, lang), p) for p in plans]


def selected_plan(choices: list[PlanChoice], requested: str | None) -> str | None:
    names = [c.name for c in choices]
    return requested if requested in names else (names[0] if names else None)


def page_query(campaign: str | None, lang: str, return_url: str = "", article: str = "",
               plan: str | None = None) -> str:
    params = {k: v for k, v in (("campaign", campaign), ("plan", plan), ("locale", lang),
                                ("return_url", return_url), ("article", article)) if v}
    return urlencode(params)


def return_links(base_url: str, page: JoinPage) -> dict[str, str]:
    """Checkout's success and cancel URLs: the welcome page (Stripe fills in the session id) and this page."""
    query = page_query(page.campaign, page.lang, page.return_url, page.article)
    return {"success_url": f"{base_url}/join/welcome?session_id={{CHECKOUT_SESSION_ID}}&{query}",
            "cancel_url": f"{base_url}/join?{query}"}
