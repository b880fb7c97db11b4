"""The widget's markup, shared by widget.js (client side, in a shadow root) and the server-rendered
fragment and iframe page (pure; no Flask).

One source for the look: `STYLES` maps each element's class to its declarations. The fragment puts
them in `style` attributes (a fragment included in someone else's page has no shadow root to keep a
`<style>` element from leaking); widget.js gets the same declarations as a stylesheet built by
`stylesheet()`. Colours, font and radius are CSS custom properties with defaults that meet WCAG AA
(text 4.5:1, the bar against its track 3:1), so a host page restyles the bar without touching it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from service.campaigns import builtin, locales
from service.urls import is_http_url

FONT = 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif'

# Default colours (checked by tests/test_widget_markup.py for contrast).
BG = "#ffffff"
TEXT = "#1a1a1a"
BAR = "#0b5cad"
TRACK = "#dfe3e8"
CTA_TEXT = "#ffffff"
BORDER = "#d0d5dd"

STYLES: dict[str, str] = {
    "mw": (
        "display:block;box-sizing:border-box;margin:0;padding:16px 20px;"
        f"background:var(--membership-bg,{BG});color:var(--membership-text,{TEXT});"
        f"font-family:var(--membership-font,{FONT});font-size:16px;font-weight:400;font-style:normal;"
        "line-height:1.45;text-align:start;letter-spacing:normal;text-transform:none;white-space:normal;"
        f"border:1px solid var(--membership-border,{BORDER});border-radius:var(--membership-radius,8px)"
    ),
    "mw-h": "display:block;margin:0 0 10px;padding:0;font-size:1.375em;font-weight:700;line-height:1.25",
    "mw-bar": (
        "display:block;box-sizing:border-box;height:12px;margin:0 0 12px;padding:0;overflow:hidden;"
        f"background:var(--membership-track,{TRACK});border-radius:var(--membership-radius,8px)"
    ),
    "mw-fill": (
        "display:block;height:100%;min-width:4px;margin:0;padding:0;"
        f"background:var(--membership-bar-color,{BAR});border-radius:var(--membership-radius,8px)"
    ),
    "mw-b": "display:block;margin:0 0 14px;padding:0",
    "mw-cta": (
        "display:inline-block;margin:0;padding:8px 18px;font-weight:700;line-height:1.45;text-decoration:none;"
        f"background:var(--membership-bar-color,{BAR});color:var(--membership-cta-text,{CTA_TEXT});"
        "border-radius:var(--membership-radius,8px);cursor:pointer"
    ),
}

# Rules that exist only in the stylesheet of widget.js (pseudo-classes and media queries cannot be inline).
EXTRA_CSS = (
    # The host reserves its height before the data arrives (no layout shift); the card fills it, with
    # any room to spare split above and below the content.
    ":host{display:block!important;min-height:var(--membership-min-height,200px)}"
    ".mw{min-height:inherit;display:flex;flex-direction:column;justify-content:center}"
    ".mw-cta{align-self:flex-start}"
    ".mw-fill{transition:width .8s ease-out}"
    ".mw-cta:hover{text-decoration:underline}"
    f".mw-cta:focus-visible{{outline:3px solid var(--membership-focus,{TEXT});outline-offset:2px}}"
    "@media (prefers-reduced-motion:reduce){.mw-fill{transition:none}}"
)

# aria-valuetext per language: "{count} out of {goal} members". Other languages use the headline.
VALUETEXT: dict[str, str] = {
    "en": "{count} out of {goal} members",
    "uk": "{count} з {goal} учасників",
}

# The bar's accessible name (and the iframe page's title) per language, for readers whose language is not the
# campaign title's; other languages use the campaign's title.
LABELS: dict[str, str] = {
    "uk": "Поступ кампанії членства до мети",
}


def label(title: str, locale: str) -> str:
    return LABELS.get(locale.replace("_", "-").split("-")[0].lower(), title)


def stylesheet() -> str:
    return "".join(f".{name}{{{decls}}}" for name, decls in STYLES.items()) + EXTRA_CSS


def safe_url(url: str | None) -> str:
    """Only http(s) links: a `javascript:` URL in the copy must never reach a reader's page."""
    url = (url or "").strip()
    return url if is_http_url(url) else ""


def valuetext(count: int, goal: int, locale: str, headline: str) -> str:
    template = VALUETEXT.get(locale.replace("_", "-").split("-")[0].lower())
    if template is None:
        return headline
    loc = locale.replace("-", "_")
    return template.format(count=format_decimal(count, locale=loc), goal=format_decimal(goal, locale=loc))


@dataclass(frozen=True)
class Banner:
    """What the template needs, built from the progress payload."""

    slug: str
    title: str
    count: int
    goal: int
    percent: float
    headline: str
    body: str
    cta_label: str
    cta_url: str
    locale: str
    dir: str
    valuetext: str
    label: str = ""  # accessible name of the bar and title of the iframe page, in the copy's language
    numberless: bool = False  # the appeal without a number: the count is stale for too long, or unknown
    variants: tuple[dict[str, Any], ...] = ()  # a running experiment's arms, for the iframe page (frame_variants)


def stale_too_long(progress: dict[str, Any], now: datetime, limit_seconds: float) -> bool:
    """A stale document (the database is down) whose data is older than the limit: its number is not shown."""
    if not progress.get("stale"):
        return False
    try:
        since = datetime.fromisoformat(str(progress["stale_since"]))
    except (KeyError, ValueError):
        return True
    return (now - since).total_seconds() > limit_seconds


def appeal(slug: str, locale: str | None, cta_url: str, cta_label: str | None = None, title: str = "") -> Banner:
    """The appeal without a number (campaigns/builtin.py APPEAL), in the locale's language or English."""
    language = builtin.language_of(locale, builtin.APPEAL)
    headline, body, label = builtin.APPEAL[language]
    return Banner(slug=slug, title=title or headline, count=0, goal=1, percent=0.0, headline=headline, body=body,
                  cta_label=cta_label or label, cta_url=safe_url(cta_url), locale=language,
                  dir=locales.text_direction(language), valuetext="", label=headline, numberless=True)


def banner(progress: dict[str, Any], now: datetime | None = None, stale_limit: float | None = None) -> Banner:
    """The bar of a progress document; the appeal without a number when it is stale for longer than the limit."""
    b = progress["banner"]
    if now is not None and stale_limit is not None and stale_too_long(progress, now, stale_limit):
        return appeal(progress["campaign"], b["locale"], b["cta_url"], title=progress["title"])  # its label: no number
    return Banner(
        slug=progress["campaign"], title=progress["title"], count=progress["count"], goal=progress["goal"],
        percent=max(0.0, min(100.0, float(progress["percent"]))), headline=b["headline"], body=b["body"],
        cta_label=b["cta_label"], cta_url=safe_url(b["cta_url"]), locale=b["locale"], dir=b["dir"],
        valuetext=valuetext(progress["count"], progress["goal"], b["locale"], b["headline"]),
        label=label(progress["title"], b["locale"]),
        variants=frame_variants(progress),
    )


def frame_variants(progress: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """`banner.variants` as the iframe page embeds them: links only http(s); while a milestone is celebrated its
    headline stays (`headline: null`), as in widget.js."""
    celebrating = bool((progress.get("milestones") or {}).get("celebrating"))
    return tuple({"id": v["id"], "weight": v["weight"], "headline": None if celebrating else v["headline"],
                  "body": v["body"], "cta_label": v["cta_label"], "cta_url": safe_url(v.get("cta_url"))}
                 for v in progress["banner"].get("variants") or ())
