"""The built-in banner copy: what a stage shows when its stored templates cannot be rendered (pure; no Flask).

Stored copy is checked when it is saved (`wording.check`), but a row saved before that check existed, or a Babel
upgrade that refuses a format it used to accept, must not take the banner, the widget or the paywall prompt
down: the banner then shows this copy for the same stage, in the reader's language when we have it (English
otherwise). Every template here renders for any numbers (tests/test_trust_copy.py checks them all).
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"

# language -> stage -> (headline, body, cta_label)
BUILTIN: dict[str, dict[str, tuple[str, str, str]]] = {
    "en": {
        "scheduled": ("Our membership drive starts soon", "Independent journalism is funded by its readers.",
                      "Become a member"),
        "launch": ("{count} out of {goal}",
                   "Join us: {remaining, plural, one {# member} other {# members}} to go.", "Become a member"),
        "momentum": ("{count} out of {goal}",
                     "We're past halfway: {remaining, plural, one {# member} other {# members}} to go.",
                     "Become a member"),
        "final_push": ("{count} out of {goal}",
                       "Only {remaining, plural, one {# member} other {# members}} to go, "
                       "with {days_left, plural, one {# day} other {# days}} left.", "Become a member"),
        "goal_reached": ("{count} members: we did it!", "Thank you to everyone who joined.", "Become a member"),
        "overtime": ("{count} out of {goal}",
                     "We reached our goal of {original_goal} members. Now for {goal}: "
                     "{remaining, plural, one {# member} other {# members}} to go, {time_left} left.",
                     "Become a member"),
        "ended": ("{count} members joined", "Our drive is over. Thank you to everyone who joined.",
                  "Become a member"),
    },
    "uk": {
        "scheduled": ("Наша кампанія скоро почнеться", "Незалежну журналістику фінансують її читачі.",
                      "Стати учасником"),
        "launch": ("{count} з {goal}",
                   "Залишилося {remaining, plural, one {# учасник} few {# учасники} many {# учасників} "
                   "other {# учасника}}.", "Стати учасником"),
        "momentum": ("{count} з {goal}",
                     "Ми вже пройшли половину шляху. Залишилося {remaining, plural, one {# учасник} "
                     "few {# учасники} many {# учасників} other {# учасника}}.", "Стати учасником"),
        "final_push": ("{count} з {goal}",
                       "Залишилося лише {remaining, plural, one {# учасник} few {# учасники} many {# учасників} "
                       "other {# учасника}} і {days_left, plural, one {# день} few {# дні} many {# днів} "
                       "other {# дня}}.", "Стати учасником"),
        "goal_reached": ("{count} учасників: ми це зробили!", "Дякуємо всім, хто приєднався.",
                         "Стати учасником"),
        "overtime": ("{count} з {goal}",
                     "Ми досягли мети в {original_goal} учасників. Нова мета — {goal}: залишилося "
                     "{remaining, plural, one {# учасник} few {# учасники} many {# учасників} other {# учасника}}.",
                     "Стати учасником"),
        "ended": ("До нас приєдналися {count}", "Кампанія завершена. Дякуємо всім, хто приєднався.",
                  "Стати учасником"),
    },
}


# language -> (headline, body): the appeal without a number, shown when the count cannot be trusted (it could
# not be loaded, or has been stale for too long): never "0 out of 25,000". widget.js gets it too (assets.py).
APPEAL: dict[str, tuple[str, str, str]] = {  # headline, body, call to action
    "en": ("Support independent journalism", "Our reporting is funded by its readers. Join them as a member.",
           "Become a member"),
    "uk": ("Підтримайте незалежну журналістику", "Нашу роботу фінансують читачі. Приєднуйтеся до них.",
           "Стати учасником"),
}

# language -> the headline of a milestone that has no headline of its own in the reader's locale.
MILESTONE_HEADLINE: dict[str, str] = {
    "en": "We passed {milestone} members. Thank you!",
    "uk": "Нас уже понад {milestone}. Дякуємо!",
}


def language_of(locale: str | None, table: dict) -> str:
    """The locale's language when `table` has it, else English."""
    language = (locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in table else DEFAULT_LANGUAGE


def builtin_copy(locale: str, stage: str) -> tuple[str, dict[str, str]]:
    """(locale, templates) of the built-in copy for a stage: the locale's language when we have it, else English."""
    language = locale.replace("-", "_").split("_")[0].lower()
    if language not in BUILTIN:
        language, locale = DEFAULT_LANGUAGE, DEFAULT_LANGUAGE
    stages = BUILTIN[language]
    headline, body, cta_label = stages.get(stage, stages["launch"])
    return locale, {"headline": headline, "body": body, "cta_label": cta_label}
