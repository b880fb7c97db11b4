"""Locales of banner copy (pure; no Flask): a requested tag normalised with Babel, the locales to try for
copy (the tag, its language, the campaign's default), and the text direction of a locale."""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")


@lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def normalize_locale(tag: str | None) -> str | None:
    """'uk-UA' -> 'uk_UA'; None for anything Babel does not know (callers then fall back)."""
    if not tag or len(tag) > 35 or not LOCALE_RE.match(tag):
        return None
    try:
        return str(babel_locale(tag))
    except (UnknownLocaleError, ValueError):
        return None


def candidates(requested: str | None, default: str) -> list[str]:
    """Locales to try for copy, best first: the tag, its language, then the campaign's default."""
    out: list[str] = []
    norm = normalize_locale(requested)
    if norm:
        out.append(norm)
        lang = norm.split("_")[0]
        if lang not in out:
            out.append(lang)
    if default not in out:
        out.append(default)
    return out


def text_direction(locale: str) -> str:
    return "rtl" if babel_locale(locale).character_order == "right-to-left" else "ltr"


MAX_ACCEPT_LANGUAGE = 200  # characters of the header considered (browsers send far fewer)


def from_accept_language(header: str | None) -> str | None:
    """The reader's preferred locale from an Accept-Language header: the tags by descending q (ties in
    the order given), the first one Babel knows, normalised; None when there is none (the campaign's default
    then). `*` and q=0 are skipped. Memoised per header value (bounded), so the hot path parses once."""
    return _accept_language(header[:MAX_ACCEPT_LANGUAGE]) if header else None


@lru_cache(maxsize=4096)
def _accept_language(header: str) -> str | None:
    ranked = []
    for position, part in enumerate(header.split(",")[:16]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        norm = normalize_locale(tag)
        if norm:
            return norm
    return None
