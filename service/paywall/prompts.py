"""The paywall's appeal: the campaign's banner in the reader's locale and a checkout link naming campaign and
article (the progress loader is the campaigns' own, through their per-process cache)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.orm import Session

from service.errors import NotFound

if TYPE_CHECKING:
    from service.paywall.access import Context


FALLBACK_PROMPT = {"headline": "Become a member", "body": "Members read every article, and make our journalism "
                   "possible.", "cta_label": "Become a member"}


def pick_campaign(session: Session, ctx: Context, section: str | None, now: datetime) -> str | None:
    """The campaign of the section's prompt: chosen by an admin, else PAYWALL_CAMPAIGN (campaign_choice.py),
    read once per PAYWALL_CACHE_SECONDS per process."""
    from service.paywall import campaign_choice

    choice = ctx.campaign.get(lambda: campaign_choice.load(session, ctx.settings.campaign_slug, now))
    return choice.slug_for(section)



def _banner(session: Session, ctx: Context, slug: str, locale: str | None, now: datetime) -> dict[str, Any] | None:
    """The campaign's banner in the reader's locale: the campaigns' progress document (their per-process cache)."""
    from service.campaigns import serving

    try:
        return serving.progress_document(session, ctx.progress_cache, slug, locale, now).data["banner"]
    except NotFound:
        return None


def paywall_prompt(session: Session, ctx: Context, locale: str | None, article_id: str, reason: str,
                   now: datetime, section: str | None = None) -> dict[str, Any]:
    """The campaign's appeal in the reader's locale, with a checkout link naming campaign and article.

    The link starts from the banner's http(s) CTA URL (the progress payload already drops any other), else the
    configured join URL: a `javascript:` URL stored in an old row never becomes `checkout_url`."""
    from service.campaigns.services import banner_link

    slug = pick_campaign(session, ctx, section, now)
    banner = _banner(session, ctx, slug, locale, now) if slug else None
    if banner is None:
        banner = {**FALLBACK_PROMPT, "cta_url": "", "locale": "en", "dir": "ltr"}
    base = banner_link(banner.get("cta_url")) or ctx.settings.join_url
    params = {"article": article_id, "reason": reason}
    if slug:
        params["campaign"] = slug
    return {
        "headline": banner["headline"], "body": banner["body"], "cta_label": banner["cta_label"],
        "checkout_url": add_query(base, params), "locale": banner["locale"], "dir": banner["dir"],
        "campaign": slug,
    }


def add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))
