"""Mail from templates (pure: no Flask, no database): subject, plain text and HTML in the reader's locale.

Templates live in service/mail/templates/<locale>/<kind>.txt (blocks `subject` and `body`, not escaped:
plain text) and <kind>.html (extends base.html, autoescaped: a value can never inject markup). Each kind's
context holds the facts stored with the mail; `prepare` adds what the app's settings say (links, the end
of the grace period) and dates formatted for the locale with Babel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from babel import Locale
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.mail.settings import MailSettings

LOCALES = ("en", "uk")
DEFAULT_LOCALE = "en"
TEMPLATES = Path(__file__).resolve().parent / "templates"
_ALIASES = {"ua": "uk"}  # a country code often given for the language
_SOURCES = {"sign_in_unknown": "sign-in"}  # attribution of the join links in mail (default: mail-<kind>)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    locale: str


def resolve_locale(value: str | None) -> str:
    """The mail locale for a reader's locale (`uk-UA`, `uk_UA`, `UK` -> `uk`); English when unsupported."""
    primary = (value or "").strip().replace("_", "-").split("-")[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LOCALES else DEFAULT_LOCALE


def plural(locale: str, n: int, **forms: str) -> str:
    """`forms[category]` for n in the locale's plural rules (one, few, many, other), else `other`."""
    category = Locale.parse(locale).plural_form(abs(n))
    return forms.get(category) or forms["other"]


def _env(autoescape: bool) -> Environment:
    # The .txt templates are plain text (never shown as HTML): escaping them would garble `&` and `<`.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,  # noqa: S701
                      undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.globals["plural"] = plural
    return env


_TEXT = _env(autoescape=False)
_HTML = _env(autoescape=True)


def with_query(url: str, values: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(dict(values))) if q)
    return urlunsplit(parts._replace(query=query))


def _date(value: Any, locale: str) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_date(when, format="long", locale=locale)


def prepare(kind: str, context: Mapping[str, Any], settings: MailSettings, locale: str) -> dict[str, Any]:
    """The template variables of a mail: its stored facts, links from the settings, dates for the locale."""
    out: dict[str, Any] = {**context, "locale": locale, "sender": settings.sender_name,
                           "account_url": settings.account_url,
                           "join_url": with_query(settings.join_url, {"source": _SOURCES.get(kind, f"mail-{kind}")})}
    if kind == "payment_failed":
        failed_at = datetime.fromisoformat(str(context["failed_at"]))
        out["grace_end"] = _date(failed_at + timedelta(days=settings.grace_days), locale)
    for name in ("ended_at", "deliver_on", "ends_at"):
        if context.get(name):
            out[name] = _date(context[name], locale)
    return out


def render(kind: str, context: Mapping[str, Any], settings: MailSettings, locale: str | None) -> Rendered:
    loc = resolve_locale(locale)
    values = prepare(kind, context, settings, loc)
    text = _TEXT.get_template(f"{loc}/{kind}.txt")
    ctx = text.new_context(values)
    subject = " ".join("".join(text.blocks["subject"](ctx)).split())
    body = "".join(text.blocks["body"](text.new_context(values))).strip() + "\n"
    html = _HTML.get_template(f"{loc}/{kind}.html").render({**values, "subject": subject})
    return Rendered(subject=subject, text=body, html=html, locale=loc)


# Sample facts for the staff preview (one per kind), as the code that enqueues each mail stores them.
SAMPLES: dict[str, dict[str, Any]] = {
    "welcome": {"plan": "monthly"},
    "payment_failed": {"plan": "monthly", "invoice_id": "in_sample", "failed_at": "2025-06-01T12:00:00+00:00"},
    "ended": {"plan": "yearly", "ended_at": "2025-06-01T12:00:00+00:00"},
    "gift_received": {"months": 6, "giver_name": "Olena <Sample>", "message": "Enjoy the reporting!\nWith love",
                      "redeem_url": "https://membership.example/gifts/SAMPLE-CODE"},
    "gift_purchased": {"months": 12, "recipient_name": "Taras", "recipient_email": "taras@example.org",
                       "deliver_on": "2025-06-10"},
    "sign_in": {"link": "https://membership.example/v1/auth/magic-links/SAMPLE-TOKEN", "minutes": 15},
    "sign_in_unknown": {},
    "erasure_confirm": {"link": "https://membership.example/v1/members/erasure/SAMPLE-TOKEN", "minutes": 60},
    "notice": {"subject": "A notice from the membership team", "text": "Hello,\n\nWords the caller wrote, "
               "in the mail layout.\n"},
}
