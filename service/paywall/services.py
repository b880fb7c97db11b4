"""Paywall use cases on a SQLAlchemy session; `now` and settings come from the caller."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import stripe
from sqlalchemy import BigInteger, Connection, bindparam, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from service.db import UTCDateTime
from service.errors import Conflict, DomainError, Invalid, NotFound, Unauthorized, Unavailable, UpstreamError
from service.members.models import Member, Subscription, normalize_email
from service.members.standing import Standing, Sub, membership
from service.paywall import mail, quota, rules, tokens
from service.paywall.models import MagicLink, MeterRead, SectionDefault

MAX_MAGIC_TOKEN = 100


class LinkGone(DomainError):
    status = 410
    type = "sign-in-link-invalid"
    title = "Sign-in link not valid"


@dataclass(frozen=True)
class Settings:
    """The paywall's slice of app.config, parsed once at start-up."""

    secret: str
    grace_days: int
    meter_limit: int
    meter_period_days: int
    member_token_max_age: timedelta
    entitlement_ttl: timedelta
    magic_link_ttl: timedelta
    checkout_claim_max_age: timedelta
    allowed_origins: tuple[str, ...]
    public_base_url: str
    join_url: str
    campaign_slug: str
    smtp_url: str
    mail_from: str
    smtp_timeout: float
    cache_seconds: float
    member_cache_seconds: float
    member_cache_size: int
    signin_quota: quota.Quota = ()  # MAGIC_LINK_RATE_PER_EMAIL, kept in the database (paywall/quota.py)

    @classmethod
    def from_config(cls, cfg: Any) -> Settings:
        origins = tuple(o for o in (rules.origin_of(x) for x in str(cfg["SITE_ALLOWED_ORIGINS"]).split(",")) if o)
        base = str(cfg["PUBLIC_BASE_URL"]).rstrip("/")
        return cls(
            secret=str(cfg["SECRET_KEY"]), grace_days=int(cfg["GRACE_DAYS"]), meter_limit=int(cfg["METER_LIMIT"]),
            meter_period_days=int(cfg["METER_PERIOD_DAYS"]),
            member_token_max_age=timedelta(days=float(cfg["MEMBER_TOKEN_MAX_AGE_DAYS"])),
            entitlement_ttl=timedelta(seconds=int(cfg["ENTITLEMENT_TTL_SECONDS"])),
            magic_link_ttl=timedelta(minutes=float(cfg["MAGIC_LINK_TTL_MINUTES"])),
            checkout_claim_max_age=timedelta(hours=float(cfg["CHECKOUT_CLAIM_MAX_AGE_HOURS"])),
            allowed_origins=origins, public_base_url=base,
            join_url=str(cfg["PAYWALL_JOIN_URL"]) or base + "/join", campaign_slug=str(cfg["PAYWALL_CAMPAIGN"]),
            smtp_url=str(cfg["SMTP_URL"]), mail_from=str(cfg["MAIL_FROM"]), smtp_timeout=float(cfg["SMTP_TIMEOUT"]),
            cache_seconds=float(cfg["PAYWALL_CACHE_SECONDS"]),
            member_cache_seconds=float(cfg["ACCESS_MEMBER_CACHE_SECONDS"]),
            member_cache_size=int(cfg["ACCESS_MEMBER_CACHE_SIZE"]),
            signin_quota=quota.parse(str(cfg["MAGIC_LINK_RATE_PER_EMAIL"])),
        )


class TTLValue:
    """One value per process, reloaded every `ttl` seconds (section defaults, the paywall's campaign)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: Any = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, load: Callable[[], Any]) -> Any:
        if time.monotonic() < self._expires:
            return self._value
        with self._lock:
            if time.monotonic() >= self._expires:
                self._value = load()
                self._expires = time.monotonic() + self.ttl
        return self._value

    def clear(self) -> None:
        self._expires = 0.0


# --- members and tokens -------------------------------------------------------------------------


def load_member(session: Session, member_id: int) -> Member | None:
    """The member and all their subscriptions in one round trip (primary key + indexed join)."""
    return session.scalars(
        select(Member).options(joinedload(Member.subscriptions)).where(Member.id == member_id)
    ).unique().one_or_none()


def member_from_token(session: Session, settings: Settings, token: str | None, now: datetime) -> Member | None:
    """The member a token names, if it is valid, unexpired and of the member's current token version."""
    claim = tokens.read_member_token(settings.secret, token, now, settings.member_token_max_age)
    if claim is None:
        return None
    member = load_member(session, claim.member_id)
    if member is None or member.token_version != claim.version:
        return None
    return member


def require_member(session: Session, settings: Settings, token: str | None, now: datetime) -> Member:
    member = member_from_token(session, settings, token, now)
    if member is None:
        raise Unauthorized("A valid member token is required (Authorization: Bearer <member token>).")
    return member


def member_token(settings: Settings, member: Member, now: datetime) -> str:
    return tokens.issue_member_token(settings.secret, member.id, member.token_version, now)


def standing_of(member: Member | MemberFacts, settings: Settings, now: datetime) -> Standing:
    subs = [Sub(s.status, s.current_period_end, bool(s.cancel_at_period_end),
                getattr(s, "payment_failed_at", None)) for s in member.subscriptions]
    return membership(subs, member_status=member.status, first_paid_at=member.first_paid_at, now=now,
                      grace_days=settings.grace_days, provisional_until=member.provisional_until)


SUB_RANK = {"active": 4, "trialing": 4, "past_due": 3, "canceled": 2}


def current_subscription(member: Member | MemberFacts) -> Subscription | SubFacts | None:
    """The subscription that best describes the membership: live ones first, then the latest period."""
    if not member.subscriptions:
        return None
    def key(s: Subscription | SubFacts) -> tuple:
        end = s.current_period_end.timestamp() if s.current_period_end else float("-inf")
        return SUB_RANK.get(s.status, 0), end

    return max(member.subscriptions, key=key)


def member_summary(member: Member | MemberFacts, *, with_email: bool = False) -> dict[str, Any]:
    sub = current_subscription(member)
    out: dict[str, Any] = {
        "id": member.id,
        "status": sub.status if sub else member.status,
        "plan": (sub.plan if sub and sub.plan else member.plan) or None,
        "current_period_end": sub.current_period_end if sub else None,
        "cancel_at_period_end": bool(sub.cancel_at_period_end) if sub else False,
    }
    if with_email:
        out["email"] = member.email
    return out


def sign_out_everywhere(member: Member, now: datetime) -> None:
    """Every token issued so far stops working (ORM assignment, so hooks see the change)."""
    member.token_version = (member.token_version or 1) + 1
    member.updated_at = now


def member_by_email(session: Session, email: str) -> Member:
    member = session.scalar(select(Member).where(Member.email == normalize_email(email)))
    if member is None:
        raise NotFound("No member with that email.")
    return member


# --- the meter ----------------------------------------------------------------------------------


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


def purge_used_links(session: Session, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links that expired more than `keep` ago (used or not)."""
    return session.execute(delete(MagicLink).where(MagicLink.expires_at < now - keep)).rowcount or 0


# --- sections -----------------------------------------------------------------------------------


def section_defaults(session: Session) -> dict[str, str]:
    return {s: v for s, v in session.execute(select(SectionDefault.section, SectionDefault.visibility))}


def set_section_default(session: Session, section: str, visibility: str | None, now: datetime) -> None:
    section = section.strip()
    if not 0 < len(section) <= 100:
        raise Invalid("a section name has 1-100 characters.")
    row = session.get(SectionDefault, section)
    if visibility is None:
        if row is None:
            raise NotFound(f"Section '{section}' has no default.")
        session.delete(row)
    elif visibility not in rules.VISIBILITIES:
        raise Invalid("visibility must be 'public' or 'members'.")
    elif row is None:
        session.add(SectionDefault(section=section, visibility=visibility, updated_at=now))
    else:
        row.visibility, row.updated_at = visibility, now
    session.flush()


# --- the access decision's view of a member: one Core read, cached a few seconds per process ------


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


_m, _s = Member.__table__.c, Subscription.__table__.c
MEMBER_FACTS_SQL = (
    select(_m.token_version, _m.status, _m.plan, _m.first_paid_at, _m.provisional_until, _s.status, _s.plan,
           _s.current_period_end, _s.cancel_at_period_end, _s.payment_failed_at)
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
    return MemberFacts(member_id, version, status, plan or "", first_paid_at, subs, provisional)


ENTITLEMENT_REUSE = 0.2  # an entitlement is handed out again until 20% of its lifetime has passed


class MemberCache:
    """Per-process member facts (ACCESS_MEMBER_CACHE_SECONDS) and signed entitlements, by member id.

    Times are the service clock's, so tests move them. Bounded: at most `size` members each (the
    oldest entry goes first). Revocation: a token older than the version cached is refused without a
    read; a change made through this process's ORM (a webhook, sign-out everywhere) drops the member at
    once (flush/commit hook); a change made by another worker stops granting on this worker's next
    load, at most `ttl` seconds later (the entitlement JWT already grants ~10 minutes at the edge).
    An entitlement is reused while at least 80% of its lifetime is left, so Ed25519 signs about
    once per member every ENTITLEMENT_TTL_SECONDS / 5 per worker.
    """

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, max(0, size)
        self._facts: dict[int, tuple[float, MemberFacts]] = {}
        self._entitlements: dict[int, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        _member_caches.add(self)

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


_member_caches: weakref.WeakSet[MemberCache] = weakref.WeakSet()


@event.listens_for(Session, "after_flush")
def _note_member_changes(session: Session, flush_context: Any) -> None:
    """Members or subscriptions written through this process's ORM leave its member caches (at flush,
    and again at commit, so a decision made in between cannot keep the old facts)."""
    if not _member_caches:
        return
    ids = {o.id for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Member)}
    ids |= {o.member_id for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Subscription)}
    ids.discard(None)
    if ids:
        session.info.setdefault("paywall_forget", set()).update(ids)
        _forget(ids)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    ids = session.info.pop("paywall_forget", None)
    if ids:
        _forget(ids)


@event.listens_for(Session, "after_rollback")
def _clear_noted(session: Session) -> None:
    session.info.pop("paywall_forget", None)


def _forget(ids: set[int]) -> None:
    for cache in list(_member_caches):
        for member_id in ids:
            cache.forget(member_id)


def member_facts_from_token(session: Session, ctx: Context, token: str | None, now: datetime
                            ) -> MemberFacts | None:
    """The member a token names (valid, unexpired, current version), through the member cache."""
    settings = ctx.settings
    claim = tokens.read_member_token(settings.secret, token, now, settings.member_token_max_age)
    if claim is None:
        return None
    return ctx.members.facts(claim.member_id, claim.version, now, lambda: load_member_facts(session, claim.member_id))


# --- the access decision ------------------------------------------------------------------------


@dataclass
class Context:
    """Per-process things the decision needs: settings, keys and small caches."""

    settings: Settings
    keys: tokens.KeyRing
    sections: TTLValue
    campaign: TTLValue
    progress_cache: Any = None
    members: MemberCache | None = None

    def __post_init__(self) -> None:
        if self.members is None:
            self.members = MemberCache(self.settings.member_cache_seconds, self.settings.member_cache_size)


def decide_access(session: Session, ctx: Context, *, article: dict[str, Any], member_token: str | None,
                  reader_id: str | None, locale: str | None, now: datetime, with_prompt: bool = True
                  ) -> dict[str, Any]:
    """The answer of POST /v1/access. With `with_prompt=False` the prompt is left for `add_prompt`, so the
    caller can commit the meter first (on SQLite its write lock is then held for the meter only)."""
    settings = ctx.settings
    bare = tokens.read_reader_id(settings.secret, reader_id)
    new_reader = bare is None
    if bare is None:
        reader_id, bare = tokens.new_reader_id(settings.secret)
    visibility = article.get("visibility")
    if visibility is None and article.get("section"):
        visibility = rules.visibility_of(None, article["section"], ctx.sections.get(lambda: section_defaults(session)))
    visibility = visibility or "members"

    member = member_facts_from_token(session, ctx, member_token, now) if member_token else None
    standing = standing_of(member, settings, now) if member is not None else Standing("none")
    meter_result = None
    if visibility == "members" and standing.kind == "none":
        meter_result = charge_meter(session, settings, bare, article["id"], now, new_reader=new_reader)
    decision = rules.decide(visibility, standing, meter_result)

    entitlement = None
    if member is not None and standing.kind in ("member", "grace", "provisional"):
        member_id = member.id
        ttl = settings.entitlement_ttl
        if standing.kind == "provisional" and standing.until is not None:  # never outlives the provisional access
            ttl = min(ttl, standing.until - now)

        def issue() -> dict[str, Any]:
            token, expires = ctx.keys.issue(member_id, now, ttl, settings.public_base_url)
            return {"token": token, "expires_at": expires, "kid": ctx.keys.signing.kid}

        entitlement = ctx.members.entitlement(member_id, now, ttl, issue)
    payload = {
        "access": decision.access,
        "reason": decision.reason,
        "member": member_summary(member) if member is not None else None,
        "meter": None if meter_result is None else {
            "limit": meter_result.limit, "used": meter_result.used, "remaining": meter_result.remaining,
            "resets_at": meter_result.resets_at,
        },
        "prompt": None,
        "reader_id": reader_id,
        "entitlement": entitlement,
    }
    if with_prompt:
        add_prompt(session, ctx, payload, article_id=article["id"], locale=locale, now=now)
    return payload


def add_prompt(session: Session, ctx: Context, payload: dict[str, Any], *, article_id: str, locale: str | None,
               now: datetime) -> dict[str, Any]:
    """Fill `prompt` when the wall shows or the meter runs low (see rules.show_prompt)."""
    remaining = payload["meter"]["remaining"] if payload["meter"] else None
    if rules.show_prompt(payload["access"], payload["reason"], remaining):
        payload["prompt"] = paywall_prompt(session, ctx, locale, article_id, payload["reason"], now)
    return payload


FALLBACK_PROMPT = {"headline": "Become a member", "body": "Members read every article, and make our journalism "
                   "possible.", "cta_label": "Become a member"}


def _pick_campaign(session: Session, slug: str, now: datetime) -> str | None:
    from service.campaigns.models import Campaign

    if slug:
        return session.scalar(select(Campaign.slug).where(Campaign.slug == slug))
    return session.scalar(select(Campaign.slug).where(Campaign.starts_at <= now, Campaign.ends_at > now)
                          .order_by(Campaign.starts_at.desc(), Campaign.id.desc()).limit(1))


def _banner(session: Session, ctx: Context, slug: str, locale: str | None, now: datetime) -> dict[str, Any] | None:
    """The campaign's banner in the reader's locale, through the campaigns' per-process progress cache."""
    from service.campaigns import copy
    from service.campaigns import services as campaigns
    from service.campaigns.schemas import ProgressSchema

    norm = copy.normalize_locale(locale)

    def load() -> bytes:
        campaign = campaigns.get_campaign(session, slug)
        return ProgressSchema().dumps(campaigns.progress_payload(session, campaign, norm, now)).encode()

    try:
        body = ctx.progress_cache.get((slug, norm), load).body if ctx.progress_cache is not None else load()
    except NotFound:
        return None
    return json.loads(body)["banner"]


def paywall_prompt(session: Session, ctx: Context, locale: str | None, article_id: str, reason: str,
                   now: datetime) -> dict[str, Any]:
    """The campaign's appeal in the reader's locale, with a checkout link naming campaign and article.

    The link starts from the banner's http(s) CTA URL (the progress payload already drops any other), else the
    configured join URL: a `javascript:` URL stored in an old row never becomes `checkout_url`."""
    from service.campaigns.services import banner_link

    slug = ctx.campaign.get(lambda: _pick_campaign(session, ctx.settings.campaign_slug, now))
    banner = _banner(session, ctx, slug, locale, now) if slug else None
    if banner is None:
        banner = {**FALLBACK_PROMPT, "cta_url": "", "locale": "en", "dir": "ltr"}
    base = banner_link(banner.get("cta_url")) or ctx.settings.join_url
    params = {"article": article_id, "reason": reason}
    if slug:
        params["campaign"] = slug
    return {
        "headline": banner["headline"], "body": banner["body"], "cta_label": banner["cta_label"],
        "checkout_url": add_query(base, params), "locale": banner["locale"], "dir": banner["dir"],
        "campaign": slug,
    }


def add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


# --- magic links --------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_return_url(settings: Settings, url: str) -> str:
    if not rules.allowed_redirect(url, settings.allowed_origins):
        raise Invalid("return_url must be an http(s) URL on an allowed site origin.",
                      errors={"return_url": ["Not on an allowed origin."]})
    return url


def request_magic_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime) -> None:
    """Mail a sign-in link to a member, or a 'no membership here' note to anyone else.

    Both paths do the same work (a link row, one lookup, one mail) so that neither the answer nor its
    timing tells whether an address belongs to a member.
    """
    check_return_url(settings, return_url)
    quota.spend(session, settings.signin_quota, email, now)  # after the input checks: refused input spends none
    email = normalize_email(email)
    token = _new_link(session, settings, email, return_url, now)
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        subject, body = _sign_in_mail(settings, token)
    else:
        subject = "Your sign-in link"
        body = ("Hello,\n\nSomeone (hopefully you) asked to sign in with this address, but we found no membership "
                "for it. If you joined with another address, ask for a link for that one. To become a member:\n\n"
                f"{add_query(settings.join_url, {'source': 'sign-in'})}\n\n"
                "If you did not ask to sign in, ignore this message.\n")
    _send_mail(session, settings, email, subject, body, now)


def send_sign_in_link(session: Session, settings: Settings, *, email: str, return_url: str, now: datetime) -> None:
    """Mail a one-time sign-in link to an address the caller knows to be a member's own (the stored one)."""
    check_return_url(settings, return_url)
    email = normalize_email(email)
    token = _new_link(session, settings, email, return_url, now)
    _send_mail(session, settings, email, *_sign_in_mail(settings, token), now)


def _new_link(session: Session, settings: Settings, email: str, return_url: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(MagicLink(token_hash=_hash(token), email=email, return_url=return_url, created_at=now,
                          expires_at=now + settings.magic_link_ttl))
    return token


def _sign_in_mail(settings: Settings, token: str) -> tuple[str, str]:
    minutes = int(settings.magic_link_ttl.total_seconds() // 60)
    link = f"{settings.public_base_url}/v1/auth/magic-links/{token}"
    return "Your sign-in link", (
        f"Hello,\n\nUse this link to sign in. It works once and expires in {minutes} minutes:\n\n{link}\n\n"
        "If you did not ask to sign in, ignore this message.\n")


def _send_mail(session: Session, settings: Settings, to: str, subject: str, body: str, now: datetime) -> None:
    session.flush()
    try:
        mail.send(session, smtp_url=settings.smtp_url, sender=settings.mail_from, to=to, subject=subject,
                  body=body, now=now, timeout=settings.smtp_timeout)
    except mail.MailError as exc:
        raise Unavailable("The sign-in mail could not be sent; try again in a few minutes.") from exc


@dataclass(frozen=True)
class SignIn:
    redirect_url: str
    member_token: str | None = None
    error: str | None = None


def use_magic_link(session: Session, settings: Settings, token: str, now: datetime) -> SignIn:
    """Use a link once (atomic: the UPDATE only matches an unused, unexpired link) and sign the member in."""
    gone = LinkGone("This sign-in link is not valid. Ask for a new one.")
    if not token or len(token) > MAX_MAGIC_TOKEN:
        raise gone
    digest = _hash(token)
    used = session.execute(
        update(MagicLink).where(MagicLink.token_hash == digest, MagicLink.used_at.is_(None),
                                MagicLink.expires_at > now).values(used_at=now)
    ).rowcount
    link = session.scalar(select(MagicLink).where(MagicLink.token_hash == digest))
    if link is None:
        raise gone
    if not rules.allowed_redirect(link.return_url, settings.allowed_origins):  # the allowlist changed since
        raise gone
    if used != 1:
        error = "link_used" if link.used_at is not None else "link_expired"
        return SignIn(with_fragment(link.return_url, {"sign_in_error": error}), error=error)
    member = session.scalar(select(Member).where(Member.email == link.email))
    if member is None:
        return SignIn(with_fragment(link.return_url, {"sign_in_error": "not_a_member"}), error="not_a_member")
    from service.paywall.claims import signed_in_with_link  # (claims builds on this module)

    signed_in_with_link(session, member, now)  # the address is proven: trust and customer of record follow
    token_out = member_token(settings, member, now)
    return SignIn(with_fragment(link.return_url, {"member_token": token_out}), member_token=token_out)


def with_fragment(url: str, values: dict[str, str]) -> str:
    """The URL with its fragment replaced: fragments never reach servers, logs or Referer headers."""
    return urlunsplit(urlsplit(url)._replace(fragment=urlencode(values)))


# --- billing portal (checkout claims: paywall/claims.py) ------------------------------------------


def stripe_call(fn: Callable[[], Any], what: str) -> Any:
    try:
        return fn()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise NotFound(f"Stripe does not know this {what}.") from exc
        raise UpstreamError(f"Stripe refused the {what} request.") from exc
    except stripe.StripeError as exc:
        raise UpstreamError(f"Stripe could not be reached for the {what}; try again.") from exc


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    try:
        return obj[name]
    except (KeyError, TypeError):
        return getattr(obj, name, None)


def billing_portal_url(settings: Settings, client: stripe.StripeClient, member: Member, return_url: str | None
                       ) -> str:
    if return_url is not None:
        check_return_url(settings, return_url)
    else:
        return_url = (settings.allowed_origins[0] + "/") if settings.allowed_origins else settings.public_base_url
    if not member.stripe_customer_id:
        raise Conflict("This membership has no Stripe customer to manage.")
    portal = stripe_call(lambda: client.v1.billing_portal.sessions.create(
        params={"customer": member.stripe_customer_id, "return_url": return_url}), "billing portal session")
    return str(_field(portal, "url"))
