"""The payments write lock and its retried transaction.

Every application of Stripe facts runs in one transaction that first takes the payments write lock
(`BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock on PostgreSQL): the ledger row, the
facts and the derived members commit together or not at all, and concurrent deliveries (the same event
twice included) are applied one after the other, so a duplicate always finds the first one's ledger row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.db import is_unique_violation

LOCK_KEY = 0x5354_5250  # "STRP": the payments apply lock on PostgreSQL
MAX_TRIES = 5


def lock(session: Session) -> None:
    """Start the apply transaction holding the payments write lock (see the module docstring)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.dbapi_connection
        if not dbapi.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "sqlstate", None)
    return (is_unique_violation(exc) or sqlstate in ("40001", "40P01", "55P03")
            or "database is locked" in str(orig))


def in_transaction(session: Session, work: Callable[[], Any]) -> Any:
    """Run `work` in a locked transaction and commit; retry a conflict a few times."""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            lock(session)
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if attempt == MAX_TRIES or not retryable(exc):
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
