"""The stored count: keeps Campaign.members_counted and the daily roll-ups in step with members, in the
same transaction (the rule itself is counting.py, pure).

Any flush of the app's sessions (`install(sessions)` on Flask-SQLAlchemy's session factory, so requests,
CLI commands, the seeder and tests' sessions alike) that adds, changes or deletes a Member applies
counting.change(before, after) to every campaign, so no code path that writes members can forget the
count. Bulk writes that bypass the ORM (the demo seeder, imports) call `recount()` afterwards.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, func, insert, inspect, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from service import clock
from service.campaigns import milestones
from service.campaigns.counting import Key, MemberFacts, Window, change, contributions, net_count, total
from service.campaigns.models import Campaign, CampaignDaily, CountAdjustment
from service.db import aware
from service.members.models import Member

# Recounts of other counters on the campaign row, run by recount() (a new or re-windowed campaign); features
# register theirs at start (payments: contributors_counted), so campaigns imports no feature.
RECOUNT_HOOKS: list[Any] = []
FACT_ATTRS = ("first_paid_at", "ended_at", "first_payment_reversed_at", "plan", "locale", "source",
              "gift_redeemed_at", "gift_ended_at")


def window_of(campaign: Any) -> Window:
    return Window(campaign.starts_at, campaign.ends_at, campaign.timezone, campaign.count_mode)


def facts_of(member: Member) -> MemberFacts:
    return MemberFacts(member.first_paid_at, member.ended_at, member.first_payment_reversed_at,
                       member.plan or "", member.locale or "", member.source or "", member.gift_redeemed_at,
                       member.gift_ended_at)


def _facts_before(member: Member) -> MemberFacts | None:
    state = inspect(member)
    if state.pending or not state.has_identity:
        return None
    values = {}
    for attr in FACT_ATTRS:
        hist = state.attrs[attr].history
        if hist.deleted:
            values[attr] = hist.deleted[0]
        elif hist.unchanged:
            values[attr] = hist.unchanged[0]
        elif hist.added:  # first set on a member inserted without it: the column was NULL
            values[attr] = None
        else:
            values[attr] = getattr(member, attr)
    return MemberFacts(values["first_paid_at"], values["ended_at"], values["first_payment_reversed_at"],
                       values["plan"] or "", values["locale"] or "", values["source"] or "",
                       values["gift_redeemed_at"], values["gift_ended_at"])


def _changed(member: Member) -> bool:
    state = inspect(member)
    return any(state.attrs[attr].history.has_changes() for attr in FACT_ATTRS)


def _may_count(facts: MemberFacts | None) -> bool:
    """Whether the member has a joining fact (a payment or a gift): others never touch a counter."""
    return facts is not None and (facts.first_paid_at is not None or facts.gift_redeemed_at is not None)


def apply_delta(session: Session, campaign_id: int, delta: Counter[Key], now: datetime) -> None:
    """Add roll-up deltas to one campaign's counter and daily rows (campaign row first: lock order)."""
    if not delta:
        return
    conn = session.connection()
    conn.execute(
        update(Campaign.__table__)
        .where(Campaign.__table__.c.id == campaign_id)
        .values(members_counted=Campaign.__table__.c.members_counted + net_count(delta), updated_at=now)
    )
    milestones.record_crossings(conn, campaign_id, now)  # the campaign row is locked: crossings are exact
    table = CampaignDaily.__table__
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    per_row: dict[tuple, list[int]] = {}
    for (day, plan, locale, source, column), n in delta.items():
        row = per_row.setdefault((day, plan, locale, source), [0, 0])
        row[0 if column == "joined" else 1] += n
    for (day, plan, locale, source), (joined, ended) in sorted(per_row.items()):
        stmt = maker(table).values(campaign_id=campaign_id, day=day, plan=plan, locale=locale,
                                   source=source, joined=joined, ended=ended)
        stmt = stmt.on_conflict_do_update(
            index_elements=["campaign_id", "day", "plan", "locale", "source"],
            set_={"joined": table.c.joined + stmt.excluded.joined, "ended": table.c.ended + stmt.excluded.ended},
        )
        conn.execute(stmt)


def _after_flush(session: Session, flush_context: Any) -> None:
    changes: list[tuple[MemberFacts | None, MemberFacts | None]] = []
    for obj in session.new:
        if isinstance(obj, Member):
            changes.append((None, facts_of(obj)))
    for obj in session.dirty:
        if isinstance(obj, Member) and _changed(obj):
            changes.append((_facts_before(obj), facts_of(obj)))
    for obj in session.deleted:
        if isinstance(obj, Member):
            changes.append((_facts_before(obj), None))
    changes = [(b, a) for b, a in changes if _may_count(b) or _may_count(a)]
    if not changes:
        return
    conn = session.connection()
    campaigns = conn.execute(
        select(Campaign.__table__.c.id, Campaign.__table__.c.starts_at, Campaign.__table__.c.ends_at,
               Campaign.__table__.c.timezone, Campaign.__table__.c.count_mode).order_by(Campaign.__table__.c.id)
    ).all()
    touched = session.info.setdefault("counter_touched", set())
    now = clock.now()  # a session of the app: there is an app context
    for cid, starts_at, ends_at, tz, mode in campaigns:
        window = Window(aware(starts_at), aware(ends_at), tz, mode)  # type: ignore[arg-type]
        total: Counter[Key] = Counter()
        for before, after in changes:
            total.update(change(before, after, window))
        total = Counter({k: v for k, v in total.items() if v})
        if total:
            apply_delta(session, cid, total, now)
            touched.add(cid)


def _after_flush_postexec(session: Session, flush_context: Any) -> None:
    touched = session.info.pop("counter_touched", None)
    if not touched:
        return
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Campaign) and obj.id in touched:
            session.expire(obj, ["members_counted", "updated_at"])


def install(sessions: scoped_session | sessionmaker) -> None:
    """Keep the count on every flush of the sessions this factory (or scoped registry) makes; once per
    factory (Flask-SQLAlchemy's `db.session` is one registry for every app in the process)."""
    factory = sessions.session_factory if isinstance(sessions, scoped_session) else sessions
    if not event.contains(factory, "after_flush", _after_flush):
        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "after_flush_postexec", _after_flush_postexec)


def recount(session: Session, campaign: Campaign, now: datetime) -> int:
    """Rebuild a campaign's counter and roll-ups from the members table; returns the new count.

    Takes the campaign row's write lock first, so concurrent member changes wait and stay exact."""
    session.flush()
    session.execute(update(Campaign).where(Campaign.id == campaign.id).values(updated_at=now))
    window = window_of(campaign)
    rows = session.execute(
        select(Member.first_paid_at, Member.ended_at, Member.first_payment_reversed_at,
               Member.plan, Member.locale, Member.source, Member.gift_redeemed_at, Member.gift_ended_at)
        .where(or_((Member.first_paid_at >= window.starts_at) & (Member.first_paid_at < window.ends_at),
                   (Member.gift_redeemed_at >= window.starts_at) & (Member.gift_redeemed_at < window.ends_at)))
        .execution_options(yield_per=20_000)
    )
    totals: Counter[Key] = Counter()
    for row in rows:
        totals.update(contributions(MemberFacts(*row), window))
    session.execute(delete(CampaignDaily).where(CampaignDaily.campaign_id == campaign.id))
    per_row: dict[tuple, dict[str, int]] = {}
    for (day, plan, locale, source, column), n in totals.items():
        per_row.setdefault((day, plan, locale, source), {"joined": 0, "ended": 0})[column] += n
    if per_row:
        session.execute(insert(CampaignDaily), [
            {"campaign_id": campaign.id, "day": day, "plan": plan, "locale": locale, "source": source, **cols}
            for (day, plan, locale, source), cols in per_row.items()
        ])
    adjustments = session.scalar(
        select(func.coalesce(func.sum(CountAdjustment.delta), 0)).where(CountAdjustment.campaign_id == campaign.id)
    )
    counted = net_count(totals)
    session.execute(update(Campaign).where(Campaign.id == campaign.id)
                    .values(members_counted=counted, adjustments_total=int(adjustments or 0)))
    milestones.record_crossings(session.connection(), campaign.id, now)
    for hook in RECOUNT_HOOKS:  # other counters kept on the campaign row (payments: contributors)
        hook(session, campaign, now)
    session.expire(campaign)
    return total(counted, int(adjustments or 0))
