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
