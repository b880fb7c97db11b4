"""The meter's storage: a non-member's reads in the rolling window, counted and recorded under a per-reader
lock (the rule itself: `rules.meter_from`), and the purge of expired reads."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db import UTCDateTime
from service.paywall import rules
from service.paywall.models import MeterRead
from service.paywall.settings import Settings

_reads = MeterRead.__table__
_this = _reads.alias("this")
# Core statements built once with bind parameters: composing them per request (and the ORM layer
# around them) cost several times more than running them.
_in_window = (_reads.c.reader_id == bindparam("reader"), _reads.c.read_at > bindparam("start", type_=UTCDateTime()))
WINDOW_SQL = select(  # three scalar subqueries: with count and min in one, SQLite decodes every row for min
    select(func.count()).select_from(_reads).where(*_in_window).scalar_subquery(),
    select(func.min(_reads.c.read_at)).where(*_in_window).scalar_subquery(),
    select(_this.c.read_at).where(_this.c.reader_id == bindparam("reader"),
                                  _this.c.article_id == bindparam("article")).scalar_subquery(),
)
LOCK_SQL = {
    "postgresql": select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger()))),
    "sqlite": text("UPDATE meter_reads SET read_at = read_at WHERE 0"),
}


def _upsert(ins: Any) -> Any:
    stmt = ins.values(reader_id=bindparam("reader"), article_id=bindparam("article"), read_at=bindparam("now"))
    return stmt.on_conflict_do_update(index_elements=["reader_id", "article_id"],
                                      set_={"read_at": stmt.excluded.read_at})


RECORD_SQL = {"postgresql": _upsert(postgresql.insert(_reads)), "sqlite": _upsert(sqlite.insert(_reads))}


def _lock_reader(conn: Connection, reader_id: str) -> None:
    """Serialize metering per reader, so concurrent requests never count more than the limit.

    PostgreSQL: a transaction-scoped advisory lock on a hash of the reader id. SQLite: a write that
    changes nothing takes the database's write lock (SQLite has one writer at a time), so the reads
    that follow see every committed read.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        key = int.from_bytes(hashlib.sha256(reader_id.encode()).digest()[:8], "big", signed=True)
        conn.execute(LOCK_SQL[dialect], {"key": key})
    elif dialect == "sqlite":
        conn.execute(LOCK_SQL[dialect])


def _window(conn: Connection, reader_id: str, article_id: str, start: datetime
            ) -> tuple[int, datetime | None, datetime | None]:
    """(reads counted in the window, the oldest one, when this article was read): one statement on the
    (reader_id, read_at) index and the (reader_id, article_id) unique index, whatever the reader's history."""
    used, oldest, this_read_at = conn.execute(
        WINDOW_SQL, {"reader": reader_id, "article": article_id, "start": start}).one()
    return int(used or 0), oldest, this_read_at


def _record_read(conn: Connection, reader_id: str, article_id: str, now: datetime) -> None:
    """Insert the read, or move an expired read of the same article to now (one statement)."""
    conn.execute(RECORD_SQL[conn.dialect.name], {"reader": reader_id, "article": article_id, "now": now})


def charge_meter(session: Session, settings: Settings, reader_id: str, article_id: str, now: datetime,
                 new_reader: bool = False) -> rules.Meter:
    """Decide and record a non-member's read of a members-only article.

    An optimistic read first, so a free re-read or an exhausted meter never takes the lock; a new
    article takes the reader's lock and decides again on what is committed by then.
    """
    limit, period = settings.meter_limit, settings.meter_period_days
    conn = session.connection()
    if new_reader:  # an id minted for this request: nobody else can hold it, and it has no reads yet
        result = rules.meter_from(0, None, None, now=now, limit=limit, period_days=period)
        if result.record:
            _record_read(conn, reader_id, article_id, now)
        return result
    start = rules.window_start(now, period)
    result = rules.meter_from(*_window(conn, reader_id, article_id, start), now=now, limit=limit,
                              period_days=period)
    if not result.record:  # a free re-read, or the meter is exhausted: nothing to write
        return result
    _lock_reader(conn, reader_id)
    result = rules.meter_from(*_window(conn, reader_id, article_id, start), now=now, limit=limit,
                              period_days=period)
    if result.record:
        _record_read(conn, reader_id, article_id, now)
    return result


def count_expired_reads(session: Session, now: datetime, period_days: int) -> int:
    return session.scalar(select(func.count()).select_from(MeterRead).where(
        MeterRead.read_at <= rules.window_start(now, period_days))) or 0


def purge_expired_batch(session: Session, now: datetime, period_days: int, batch: int) -> int:
    """Delete up to `batch` expired reads (short transactions that don't hold locks long)."""
    cutoff = rules.window_start(now, period_days)
    ids = session.scalars(select(MeterRead.id).where(MeterRead.read_at <= cutoff).limit(batch)).all()
    if not ids:
        return 0
    session.execute(delete(MeterRead).where(MeterRead.id.in_(ids)))
    return len(ids)
