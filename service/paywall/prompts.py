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


GIFT_ENDED_PROMPT = {  # the lapsed prompt's `gift_ended` flavour, by language
    "en": {"headline": "Your gift membership has ended",
           "body": "We hope you enjoyed it. Continue with a membership of your own and keep reading every article.",
           "cta_label": "Continue as a member"},
    "uk": {"headline": "Ваше подароване членство завершилося",
           "body": "Сподіваємося, вам сподобалося. Продовжте з власним членством і читайте всі статті далі.",
           "cta_label": "Продовжити членство"},
}


def prompt_flavour(payload: dict[str, Any], now: datetime) -> str | None:
    """`gift_ended` when a lapsed member's gift membership is over (their summary says when it ended)."""
    member = payload.get("member") or {}
    ends = member.get("gift_ends_at")
    if payload.get("reason") == "membership_lapsed" and ends is not None and ends <= now:
        return "gift_ended"
    return None


def paywall_prompt(session: Session, ctx: Context, locale: str | None, article_id: str, reason: str,
                   now: datetime, flavour: str | None = None, reader_id: str | None = None,
                   section: str | None = None) -> dict[str, Any]:
    """The campaign's appeal in the reader's locale, with a checkout link naming campaign and article.

    The link starts from the banner's http(s) CTA URL (the progress payload already drops any other), else the
    configured join URL: a `javascript:` URL stored in an old row never becomes `checkout_url`."""
    from service.campaigns.services import banner_link

    slug = pick_campaign(session, ctx, section, now)
    banner = _banner(session, ctx, slug, locale, now) if slug else None
    if banner is None:
        banner = {**FALLBACK_PROMPT, "cta_url": "", "locale": "en", "dir": "ltr"}
    banner, arm = (banner, None) if flavour else _variant(ctx, slug, banner, reader_id)  # a flavour has its own copy
    base = banner_link(banner.get("cta_url")) or ctx.settings.join_url
    params = {"article": article_id, "reason": flavour or reason}
    if slug:
        params["campaign"] = slug
    if arm is not None:
        params["variant"] = str(arm)  # checkout passes it on: the sign-up is attributed to the arm
    copy = {k: banner[k] for k in ("headline", "body", "cta_label", "locale", "dir")}
    if flavour == "gift_ended":
        lang = (locale or banner["locale"] or "en").split("-")[0].lower()
        copy.update(GIFT_ENDED_PROMPT.get(lang) or GIFT_ENDED_PROMPT["en"], dir="ltr",
                    locale=lang if lang in GIFT_ENDED_PROMPT else "en")
    return {**copy, "checkout_url": add_query(base, params), "campaign": slug, "flavour": flavour,
            "variant": arm}


def _variant(ctx: Context, slug: str | None, banner: dict[str, Any], reader_id: str | None
             ) -> tuple[dict[str, Any], int | None]:
    """While the campaign runs an experiment, the banner of the reader's arm (assigned from the bare reader id
    exactly as the widget assigns from its visitor id: campaigns/experiments.py) and that arm; else (banner, None)."""
    from service.campaigns import experiments
    from service.paywall.tokens import read_reader_id

    listed = banner.get("variants")
    bare = read_reader_id(ctx.settings.secret, reader_id)
    if not slug or not listed or bare is None:
        return banner, None
    arm = experiments.assign(slug, bare, listed)
    chosen = next((v for v in listed if v["id"] == arm), None)
    if chosen is not None:
        banner = {**banner, **{k: chosen[k] for k in ("headline", "body", "cta_label", "cta_url")}}
    return banner, arm


def add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))
