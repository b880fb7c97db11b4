"""The staff copy editor: locales with copy, the copy to edit for a stage, a live preview, and saving (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns import locales, pace, wording
from service.campaigns import services as campaigns
from service.campaigns.models import BannerCopy, Campaign
from service.staff import audit
from service.staff.models import StaffUser


def edit_copy(session: Session, campaign: Campaign, *, staff: StaffUser, locale: str, stage: str,
              headline: str, body: str, cta_label: str, cta_url: str, now: datetime,
              require_https: bool = False) -> Any:
    cta_url = (cta_url or "").strip()
    row = campaigns.set_copy(session, campaign, locale=locale, stage=stage, headline=headline, body=body,
                             cta_label=cta_label, cta_url=cta_url, who=staff.email, now=now,
                             require_https=require_https)
    audit.record(session, actor=staff.email, action="copy.edit", target=f"{campaign.slug}/{row.locale}/{stage}",
                 campaign=campaign, details={"locale": row.locale, "stage": stage, "headline": headline,
                                             "body": body, "cta_label": cta_label, "cta_url": cta_url}, now=now)
    return row


# Locales offered by "Add a locale" (any other Babel knows can still be typed into the copy editor's URL).
SUGGESTED_LOCALES = ("ar", "cs", "da", "de", "en", "en_GB", "es", "et", "fi", "fr", "he", "hu", "it", "ja", "ka",
                     "lt", "lv", "nl", "no", "pl", "pt", "pt_BR", "ro", "ru", "sk", "sv", "tr", "uk", "zh")


def locale_choices(have: list[str]) -> list[tuple[str, str]]:
    """(code, name in English and in itself) of the suggested locales the campaign has no copy in yet."""
    out = []
    for code in SUGGESTED_LOCALES:
        if code in have:
            continue
        loc = locales.babel_locale(code)
        own = loc.get_display_name(loc) or code
        english = loc.get_display_name("en") or code
        out.append((code, english if own == english else f"{english} · {own}"))
    return out


EXAMPLE_WORDS = {"uk": {"one": "член", "few": "члени", "many": "членів", "other": "члена"}}


def plural_hint(locale: str) -> tuple[list[str], str]:
    """The locale's own plural categories (CLDR, from Babel; `other` always) and an example using all of them:
    uk -> ['one', 'few', 'many', 'other'], '{remaining, plural, one {# member} few {# members} …}'."""
    tags = set(locales.babel_locale(locales.normalize_locale(locale) or "en").plural_form.tags) | {"other"}
    categories = [c for c in wording.PLURAL_CATEGORIES if c in tags]
    words = EXAMPLE_WORDS.get((locales.normalize_locale(locale) or "en").split("_")[0], {})
    example = " ".join(f"{c} {{# {words.get(c) or ('member' if c == 'one' else 'members')}}}" for c in categories)
    return categories, "{remaining, plural, " + example + "}"


def copy_locales(session: Session, campaign: Campaign) -> list[str]:
    have = set(session.scalars(select(BannerCopy.locale).where(BannerCopy.campaign_id == campaign.id).distinct()))
    return sorted(have | {campaign.default_locale})


def copy_for_editing(session: Session, campaign: Campaign, locale: str, stage: str) -> tuple[dict[str, str], str]:
    """The templates to edit for (locale, stage) and, when the stage has none of its own, where they
    are borrowed from (the banner shows the same)."""
    rows = list(session.scalars(select(BannerCopy).where(BannerCopy.campaign_id == campaign.id)))
    own = next((r for r in rows if r.locale == locale and r.stage == stage), None)
    if own is not None:
        return {"headline": own.headline, "body": own.body, "cta_label": own.cta_label,
                "cta_url": own.cta_url}, ""
    used_locale, templates = campaigns.pick_copy(rows, locale, campaign.default_locale, stage)
    return templates, f"No copy of its own yet: shown is what the banner uses now ({used_locale})."


def preview(session: Session, campaign: Campaign, *, locale: str, stage: str, templates: dict[str, str],
            now: datetime, require_https: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The banner as it would look at the current count with these templates: (payload, errors by field, the
    same sentences saving would give: a template must render for every stage's numbers, not only today's).

    The banner is rendered by campaigns' own `render_banner`, so the preview is what readers would get
    (copy that does not render today shows the stage's built-in copy, as it would on the banner)."""
    p = pace.compute(count=campaign.count, goal=campaign.goal, starts_at=campaign.starts_at,
                     ends_at=campaign.ends_at, timezone=campaign.timezone, now=now,
                     net_last_7d=campaigns.net_last_7d(session, campaign, now))
    norm = locales.normalize_locale(locale) or campaign.default_locale
    errors = campaigns.copy_errors(campaign, norm, templates, require_https=require_https)
    banner = campaigns.render_banner(templates, norm, p, campaign.join_url, campaign.slug)
    payload = {"campaign": campaign.slug, "title": campaign.title, "count": p.count, "goal": p.goal,
               "percent": p.percent, "stage": stage, "banner": banner}
    return payload, errors
