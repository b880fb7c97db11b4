"""Widget use cases: the progress data behind the server-rendered bar, and counting beacons."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.campaigns import copy
from service.campaigns import services as campaigns
from service.campaigns.cache import ProgressCache
from service.campaigns.models import BannerCopy
from service.campaigns.schemas import ProgressSchema
from service.widget import events, markup
from service.widget.models import WidgetDaily

_progress_schema = ProgressSchema()


def progress(session: Session, cache: ProgressCache, slug: str, locale: str | None,
             now: datetime) -> dict[str, Any]:
    """The same payload as GET /v1/campaigns/{slug}/progress, from the same cache entry (same key, same
    bytes), so the fragment and the iframe page cost no more than the JSON."""
    norm = copy.normalize_locale(locale)

    def load() -> bytes:
        try:
            campaign = campaigns.get_campaign(session, slug)
            return _progress_schema.dumps(campaigns.progress_payload(session, campaign, norm, now)).encode()
        finally:
            session.rollback()  # read-only: hold no snapshot open

    return json.loads(cache.get((slug, norm), load).body)


def banner(session: Session, cache: ProgressCache, slug: str, locale: str | None, now: datetime) -> markup.Banner:
    return markup.banner(progress(session, cache, slug, locale, now))


def record_event(session: Session, slug: str, *, type_: str, locale: str | None, now: datetime) -> None:
    """Add one to the day's counter: a single INSERT ... ON CONFLICT DO UPDATE, safe under concurrency."""
    campaign = campaigns.get_campaign(session, slug)
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
