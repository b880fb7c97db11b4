"""The access decision's view of a member: one Core read, cached a few seconds per process (MemberCache),
dropped at once when this process writes the member through the app's own sessions (`watch`)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from service.members.models import Member, Subscription


@dataclass(frozen=True)
class SubFacts:
    status: str
    plan: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    payment_failed_at: datetime | None


@dataclass(frozen=True)
class MemberFacts:
    """What an access decision needs of a member and their subscriptions (read by standing_of and
    member_summary like a Member): plain values, so they can outlive the request's session."""

    id: int
    token_version: int
    status: str
    plan: str
    first_paid_at: datetime | None
    subscriptions: tuple[SubFacts, ...]
    provisional_until: datetime | None = None
    gift_until: datetime | None = None


_m, _s = Member.__table__.c, Subscription.__table__.c
MEMBER_FACTS_SQL = (
    select(_m.token_version, _m.status, _m.plan, _m.first_paid_at, _m.provisional_until, _s.status, _s.plan,
           _s.current_period_end, _s.cancel_at_period_end, _s.payment_failed_at, _m.gift_until)
    .select_from(Member.__table__.outerjoin(Subscription.__table__, _s.member_id == _m.id))
    .where(_m.id == bindparam("member_id"))
    .order_by(_s.id)  # ties in current_subscription() resolve the same way on every load
)


def load_member_facts(session: Session, member_id: int) -> MemberFacts | None:
    """A member's facts in one round trip (primary key + indexed join), columns only: no ORM identity map."""
    rows = session.execute(MEMBER_FACTS_SQL, {"member_id": member_id}).all()
    if not rows:
        return None
    version, status, plan, first_paid_at, provisional = rows[0][:5]
    subs = tuple(SubFacts(r[5], r[6] or "", r[7], bool(r[8]), r[9]) for r in rows if r[5] is not None)
    return MemberFacts(member_id, version, status, plan or "", first_paid_at, subs, provisional, rows[0][10])


ENTITLEMENT_REUSE = 0.2  # an entitlement is handed out again until 20% of its lifetime has passed


class MemberCache:
    """Per-process member facts (ACCESS_MEMBER_CACHE_SECONDS) and signed entitlements, by member id.

    Times are the service clock's, so tests move them. Bounded: at most `size` members each (the
    oldest entry goes first). Revocation: a token older than the version cached is refused without a
    read; a change made through this process's ORM (a webhook, sign-out everywhere) drops the member at
    once (flush/commit hook on the app's sessions, see `watch`); a change made by another worker stops
    granting on this worker's next load, at most `ttl` seconds later (the entitlement JWT already grants
    ~10 minutes at the edge).
    An entitlement is reused while at least 80% of its lifetime is left, so Ed25519 signs about
    once per member every ENTITLEMENT_TTL_SECONDS / 5 per worker.
    """

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, max(0, size)
        self._facts: dict[int, tuple[float, MemberFacts]] = {}
        self._entitlements: dict[int, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _put(self, store: dict, key: int, value: Any) -> None:
        with self._lock:
            store.pop(key, None)
            while store and len(store) >= self.size:
                store.pop(next(iter(store)), None)
            if self.size:
                store[key] = value

    def facts(self, member_id: int, version: int, now: datetime, load: Callable[[], MemberFacts | None]
              ) -> MemberFacts | None:
        """The member's facts if `version` is their current token version, else None."""
        t = now.timestamp()
        hit = self._facts.get(member_id) if self.ttl > 0 else None
        if hit is not None and hit[0] <= t < hit[0] + self.ttl:
            facts = hit[1]
            if version < facts.token_version:  # revoked: a newer version is known
                return None
            if version == facts.token_version:
                return facts
        facts = load()  # missing, expired, or a token newer than what this worker knows
        if facts is None:
            self.forget(member_id)
            return None
        if self.ttl > 0:
            self._put(self._facts, member_id, (t, facts))
        return facts if facts.token_version == version else None

    def entitlement(self, member_id: int, now: datetime, ttl: timedelta,
                    issue: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        t, life = now.timestamp(), ttl.total_seconds()
        hit = self._entitlements.get(member_id)
        if hit is not None and hit[0] <= t < hit[0] + life * ENTITLEMENT_REUSE:
            return hit[1]
        value = issue()
        self._put(self._entitlements, member_id, (t, value))
        return value

    def forget(self, member_id: int) -> None:
        with self._lock:
            self._facts.pop(member_id, None)
            self._entitlements.pop(member_id, None)

    def __len__(self) -> int:
        return len(self._facts)


_watched: weakref.WeakKeyDictionary[sessionmaker, weakref.WeakSet[MemberCache]] = weakref.WeakKeyDictionary()


def watch(sessions: scoped_session | sessionmaker, cache: MemberCache) -> None:
    """Members or subscriptions written through sessions that `sessions` makes (the app's own factory:
    Flask-SQLAlchemy's `db.session`, never SQLAlchemy's global Session class) leave `cache` at flush, and
    again at commit, so a decision made in between cannot keep the old facts.

    Called once per app by `paywall.init_app`. The listeners are added once per factory and tell every cache
    watching it (apps built in one process share `db`), so building apps never piles up listeners."""
    factory = sessions.session_factory if isinstance(sessions, scoped_session) else sessions
    caches = _watched.get(factory)
    if caches is None:
        caches = _watched[factory] = weakref.WeakSet()
        _listen(factory, caches)
    caches.add(cache)


def _listen(factory: sessionmaker, caches: weakref.WeakSet[MemberCache]) -> None:
    def forget(ids: set[int]) -> None:
        for cache in list(caches):
            for member_id in ids:
                cache.forget(member_id)

    @event.listens_for(factory, "after_flush")
    def note_member_changes(session: Session, flush_context: Any) -> None:
        if not caches:
            return
        ids = {o.id for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Member)}
        ids |= {o.member_id for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Subscription)}
        ids.discard(None)
        if ids:
            session.info.setdefault("paywall_forget", set()).update(ids)
            forget(ids)

    @event.listens_for(factory, "after_commit")
    def forget_after_commit(session: Session) -> None:
        ids = session.info.pop("paywall_forget", None)
        if ids:
            forget(ids)

    @event.listens_for(factory, "after_rollback")
    def clear_noted(session: Session) -> None:
        session.info.pop("paywall_forget", None)
