"""The per-address sign-in quota (`MAGIC_LINK_RATE_PER_EMAIL`, default 5/hour), kept in the database.

Rule: an address gets at most N sign-in links in any sliding window (`5/hour`: at most 5 links in any
60 minutes; several limits may be given, `5/hour;20/day`, and each holds). The links themselves are the
log: the quota reads the address's `magic_links` rows created inside the window, after taking a lock
on the address that is held until the transaction ends, so requests on any number of workers and
hosts sharing the database never hand out more than N.

Only a link that is stored spends quota: a request refused before the check (invalid input, a
return_url on a foreign origin) spends nothing, and neither does one whose transaction rolls back
(the mail could not be sent). Links are purged a day after they expire, so a window is at most a day.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from sqlalchemy import BigInteger, Connection, bindparam, func, select, text
from sqlalchemy.orm import Session

from service.config import ConfigError
from service.errors import DomainError
from service.members.identity import normalize_email
from service.paywall.models import MagicLink

MAX_WINDOW = timedelta(days=1)  # `purge_used_links` keeps links a day after they expire
SETTING = "MAGIC_LINK_RATE_PER_EMAIL"

Quota = tuple[RateLimitItem, ...]


class QuotaExceeded(DomainError):
    """429: the address has had its links for now; `retry_after` is the seconds until one is free."""

    status = 429
    type = "too-many-requests"
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def parse(setting: str) -> Quota:
    """The quota's limits, parsed by `limits` (Flask-Limiter's notation); empty means no quota.

    A ConfigError (at start-up) names the setting when it does not parse, allows no link, or has a
    window longer than `MAX_WINDOW` (older links are purged, so they could not be counted).
    """
    if not setting.strip():
        return ()
    try:
        items = tuple(parse_many(setting))
    except ValueError as exc:
        raise ConfigError(f"{SETTING}={setting!r} is not a rate limit such as '5/hour': {exc}") from exc
    for item in items:
        if item.amount < 1:
            raise ConfigError(f"{SETTING}={setting!r}: each limit must allow at least one link")
        if item.get_expiry() > MAX_WINDOW.total_seconds():
            raise ConfigError(f"{SETTING}={setting!r}: a window is at most a day (links are purged after that)")
    return items


_links = MagicLink.__table__.c
RECENT_SQL = (  # the newest `n` links of an address inside the window: the (email, created_at) index
    select(_links.created_at)
    .where(_links.email == bindparam("email"), _links.created_at > bindparam("start", type_=_links.created_at.type))
    .order_by(_links.created_at.desc())
    .limit(bindparam("n"))
)
LOCK_SQL = {
    "postgresql": select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger()))),
    "sqlite": text("UPDATE magic_links SET id = id WHERE 0"),
}


def _lock_address(conn: Connection, email: str) -> None:
    """Serialize quota checks per address until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on a hash of the address (namespaced, so it never
    meets the meter's reader locks). SQLite: a write that changes nothing takes the database's write
    lock, so the read that follows sees every committed link.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        digest = hashlib.sha256(b"signin-quota:" + email.encode()).digest()
        conn.execute(LOCK_SQL[dialect], {"key": int.from_bytes(digest[:8], "big", signed=True)})
    elif dialect == "sqlite":
        conn.execute(LOCK_SQL[dialect])


def spend(session: Session, quota: Quota, email: str, now: datetime) -> None:
    """Check that `email` may have one more link now, or raise QuotaExceeded.

    The caller stores the link in the same transaction, which holds the address's lock until it ends.
    """
    if not quota:
        return
    email = normalize_email(email)
    conn = session.connection()
    _lock_address(conn, email)
    for item in sorted(quota, key=lambda i: i.get_expiry()):
        window = timedelta(seconds=item.get_expiry())
        recent = conn.execute(RECENT_SQL, {"email": email, "start": now - window, "n": item.amount}).scalars().all()
        if len(recent) >= item.amount:
            free_at = recent[-1] + window  # the oldest of the newest N leaves the window then
            raise QuotaExceeded(f"Too many sign-in links for this address ({item.amount} per "
                                f"{_describe(window)}). Try again later.",
                                retry_after=max(1, math.ceil((free_at - now).total_seconds())))


def _describe(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"
