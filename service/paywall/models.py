"""Paywall tables: the meter's reads, magic sign-in links and section defaults (the mail outbox moved to
service/mail/models.py; OutboxMessage is imported here for older callers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.mail.models import OutboxMessage  # noqa: F401 - moved to service/mail (older imports)

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


class MeterRead(Base):
    """One members-only article counted against a reader's meter.

    Unique per (reader, article): a re-read inside the period is free, and a re-read after the read
    expired moves `read_at` forward instead of adding a row. Reads older than the period are purged.
    """

    __tablename__ = "meter_reads"
    __table_args__ = (
        UniqueConstraint("reader_id", "article_id"),
        Index("ix_meter_reads_reader_id_read_at", "reader_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    reader_id: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime] = mapped_column(index=True)


class MagicLink(Base):
    """A one-time sign-in link. Only the SHA-256 of the token is stored, so a database leak signs nobody in."""

    __tablename__ = "magic_links"
    # The sign-in quota reads an address's newest links (paywall/quota.py).
    __table_args__ = (Index("ix_magic_links_email_created_at", "email", "created_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    return_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SectionDefault(Base):
    """The visibility of a section's articles when the website does not say (`public` or `members`)."""

    __tablename__ = "section_defaults"

    section: Mapped[str] = mapped_column(String(100), primary_key=True)
    visibility: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class PaywallCampaign(Base):
    """The campaign whose appeal the paywall shows in a site section (`section` '' : every section without a
    choice of its own), chosen by an admin; PAYWALL_CAMPAIGN is the default when there is none."""

    __tablename__ = "paywall_campaigns"

    section: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime]
