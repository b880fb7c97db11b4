"""The gift page's words in English and Ukrainian, and where it sends a new member (no Flask)."""

from __future__ import annotations

from typing import Any

from service.paywall.settings import Settings
from service.paywall.signin import with_fragment

LANGUAGES = ("en", "uk")
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "A gift membership for you", "from": "From", "months": "{n} months of membership",
        "message": "Their message", "redeem": "Start my membership", "switch": "Українською",
        "intro": "Someone who values our journalism gave you a membership: every article, and a part in "
                 "making it possible.",
        "done_title": "You are a member", "until": "Your membership runs until {date}.",
        "start": "Start reading", "link_sent": "This address already has a membership: we added the gift to "
        "it and mailed a sign-in link to the address.",
        "gift-not-found": "This gift link is not valid. Ask the person who gave it to have it sent again.",
        "gift-redeemed": "This gift has already been redeemed.",
        "gift-refunded": "This gift was refunded and can no longer be redeemed.",
        "error": "Something went wrong. Please try again in a few minutes.",
    },
    "uk": {
        "title": "Подароване членство для вас", "from": "Від", "months": "Членство на {n} міс.",
        "message": "Повідомлення", "redeem": "Почати членство", "switch": "In English",
        "intro": "Людина, яка цінує нашу журналістику, подарувала вам членство: усі статті та участь у тому, "
                 "щоб вони виходили.",
        "done_title": "Ви — член спільноти", "until": "Ваше членство діє до {date}.",
        "start": "Почати читати", "link_sent": "Ця адреса вже має членство: ми додали до нього подарунок і "
        "надіслали на адресу посилання для входу.",
        "gift-not-found": "Це посилання на подарунок недійсне. Попросіть дарувальника надіслати його ще раз.",
        "gift-redeemed": "Цей подарунок уже використано.",
        "gift-refunded": "Кошти за цей подарунок повернуто, тож його не можна використати.",
        "error": "Щось пішло не так. Спробуйте ще раз за кілька хвилин.",
    },
}


def page_text(lang: str) -> dict[str, str]:
    return TEXT[lang if lang in TEXT else "en"]


def pick_language(asked: str | None, gift: Any, accepted: str | None) -> str:
    """`?lang=`, else the buyer's checkout locale, else the browser's, else English."""
    for value in (asked, getattr(gift, "locale", None), accepted):
        lang = (value or "").replace("_", "-").split("-")[0].lower()
        if lang in LANGUAGES:
            return lang
    return "en"


def site_link(settings: Settings, member_token: str | None) -> str:
    """The site's front page; with the member token in the fragment (never sent to servers) when the
    redemption signed the member in, as a sign-in link does."""
    base = (settings.allowed_origins[0] if settings.allowed_origins else settings.public_base_url) + "/"
    return with_fragment(base, {"member_token": member_token}) if member_token else base
