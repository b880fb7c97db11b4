"""Widget use cases: the server-rendered bar (from the campaigns' progress document), and counting beacons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.campaigns import services as campaigns
from service.campaigns import serving, variants
from service.campaigns.cache import ProgressCache
from service.campaigns.models import BannerCopy
from service.widget import events, markup
from service.widget.models import WidgetDaily


def banner(session: Session, cache: ProgressCache, slug: str, locale: str | None, now: datetime,
           stale_limit: float | None = None) -> markup.Banner:
    """The bar's content: the progress JSON's own document (same cache entry, same bytes), so the fragment
    and the iframe page cost no more than the JSON; the appeal without a number once it is stale for longer
    than `stale_limit` seconds (WIDGET_STALE_LIMIT_SECONDS)."""
    return markup.banner(serving.progress_document(session, cache, slug, locale, now).data, now, stale_limit)


def record_event(session: Session, slug: str, *, type_: str, locale: str | None, now: datetime,
                 variant: int | None = None) -> None:
    """Add one to the day's counter: a single INSERT ... ON CONFLICT DO UPDATE, safe under concurrency. A beacon
    naming an experiment's arm (a running variant, or 0 for the control while one runs) also adds one to that
    arm's counter; another variant (a page cached before it stopped) counts in the day's counter only."""
    campaign = campaigns.get_public_campaign(session, slug)  # an archived campaign counts nothing (410)
    known = session.scalars(select(BannerCopy.locale).where(BannerCopy.campaign_id == campaign.id).distinct())
    values = {
        "campaign_id": campaign.id,
        "day": events.local_day(now, campaign.timezone),
        "type": type_,
        "locale": events.counted_locale(locale, campaign.default_locale, known),
        "count": 1,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = WidgetDaily.__table__
    stmt = dialect.insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["campaign_id", "day", "type", "locale"],
                                      set_={"count": table.c.count + 1})
    session.execute(stmt)
    arm = variants.counted_arm(session, campaign, variant)
    if arm is not None:
        variants.count(session, campaign, arm, type_, now)
