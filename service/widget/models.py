"""Widget conversion counters: impressions and clicks per campaign, day and locale.

Stable contract: the staff dashboard reads `widget_daily` for its funnel (impression -> click -> joined);
keep the table name and columns as they are.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

EVENT_TYPES = ("impression", "click")


class WidgetDaily(Base):
    """How many times the widget was seen (`impression`) or its call to action followed (`click`) on `day`
    (the campaign's local day) in `locale` (the copy's locale). No reader, IP, page or time of day is kept."""

    __tablename__ = "widget_daily"
    __table_args__ = (
        UniqueConstraint("campaign_id", "day", "type", "locale"),
        CheckConstraint("type IN ('impression', 'click')", name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(35), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
