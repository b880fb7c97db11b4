"""The demo campaign `members-25k`: goal 25,000 over the current calendar year, English and Ukrainian."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from service.campaigns import services
from service.campaigns.models import Campaign

SLUG = "members-25k"

BODY_EN = "Quality journalism takes work — and a community that cares."
CTA_EN = "Help us reach {goal} {goal, plural, one {member} other {members}} by the end of {deadline:yyyy}."

# stage -> (headline, body, cta_label)
COPY = {
    "en": {
        "scheduled": ("Our membership drive starts soon",
                      BODY_EN, CTA_EN),
        "launch": ("{count} out of {goal}",
                   BODY_EN, CTA_EN),
        "momentum": ("{count} out of {goal}",
                     "We're past halfway. {remaining, plural, one {# more member} other {# more members}} "
                     "and independent reporting is funded by its readers.",
                     "Join them before the end of {deadline:yyyy}."),
        "final_push": ("{count} out of {goal}",
                       "Only {remaining, plural, one {# member} other {# members}} to go, "
                       "with {days_left, plural, one {# day} other {# days}} left.",
                       "Be one of the last {remaining} to join."),
        "goal_reached": ("{count} members: we did it!",
                         "Thank you. Quality journalism takes work — and you showed that a community cares.",
                         "Join {count} members"),
        "ended": ("{count} members joined",
                  "Our {deadline:yyyy} drive is over. Thank you to everyone who joined.",
                  "Become a member"),
    },
    "uk": {
        "scheduled": ("Наша кампанія скоро почнеться",
                      "Якісна журналістика потребує праці — і спільноти, якій не байдуже.",
                      "Допоможіть нам досягти {goal} {goal, plural, one {учасника} few {учасників} many {учасників} "
                      "other {учасника}} до кінця {deadline:yyyy} року."),
        "launch": ("{count} з {goal}",
                   "Якісна журналістика потребує праці — і спільноти, якій не байдуже.",
                   "Допоможіть нам досягти {goal} {goal, plural, one {учасника} few {учасників} many {учасників} "
                   "other {учасника}} до кінця {deadline:yyyy} року."),
        "momentum": ("{count} з {goal}",
                     "Ми вже пройшли половину шляху. Залишилося {remaining, plural, one {# учасник} "
                     "few {# учасники} many {# учасників} other {# учасника}}.",
                     "Приєднуйтеся до кінця {deadline:yyyy} року."),
        "final_push": ("{count} з {goal}",
                       "Залишилося лише {remaining, plural, one {# учасник} few {# учасники} many {# учасників} "
                       "other {# учасника}} і {days_left, plural, one {# день} few {# дні} many {# днів} "
                       "other {# дня}}.",
                       "Приєднуйтеся зараз"),
        "goal_reached": ("{count} учасників: ми це зробили!",
                         "Дякуємо. Якісна журналістика потребує праці — і ви показали, що спільноті не байдуже.",
                         "Приєднатися"),
        "ended": ("До нас приєдналися {count}",
                  "Кампанія {deadline:yyyy} року завершена. Дякуємо всім, хто приєднався.",
                  "Стати учасником"),
    },
}


def create_demo(session: Session, now: datetime, join_url: str = "") -> Campaign:
    year = now.year
    campaign = services.create_campaign(
        session, slug=SLUG, title=f"25,000 members by the end of {year}", goal=25_000,
        starts=date(year, 1, 1), ends=date(year, 12, 31), timezone="UTC", locale="en",
        count_mode="net", join_url=join_url, now=now)
    for locale, stages in COPY.items():
        for stage, (headline, body, cta) in stages.items():
            services.set_copy(session, campaign, locale=locale, stage=stage, headline=headline, body=body,
                              cta_label=cta, who="demo", now=now)
    return campaign


def rebase_join_url(campaign: Campaign, base_url: str) -> bool:
    """Point the demo campaign's join URL at `base_url` (PUBLIC_BASE_URL) when it is one of this service's own
    development pages on another origin (`make run PORT=...` after an earlier run on another port); True if
    it moved. A join URL elsewhere (a real site) is left alone."""
    from urllib.parse import urlsplit

    parts = urlsplit(campaign.join_url or "")
    base = urlsplit(base_url.rstrip("/"))
    local = parts.hostname in ("127.0.0.1", "localhost") and parts.path in ("/demo/join", "/join")
    if not local or (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return False
    campaign.join_url = parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()
    return True
