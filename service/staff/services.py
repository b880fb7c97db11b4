"""Staff use cases: accounts and sign-in, API tokens, the audit log, and the dashboard's numbers.

Everything the dashboard shows is read from counters and the daily roll-ups (`campaign_daily`,
`widget_daily`, payments' per-day counters) with GROUP BY in SQL, so its cost follows the number of
days and attribution values, never the number of members.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.campaigns import progress as progress_rules
from service.campaigns import services as campaigns
from service.campaigns.models import Campaign, CampaignDaily, CountAdjustment
from service.db import is_unique_violation
from service.errors import Conflict, Invalid, NotFound
from service.members.models import normalize_email
from service.staff import stats
from service.staff.models import ROLES, AuditEntry, StaffApiToken, StaffUser

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "mst_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret
SIGN_IN_FAILED = "Wrong email or password (after repeated failures, sign-in pauses for a while)."

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown emails, so that a wrong email costs as much as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


# ---- accounts -------------------------------------------------------------------------------------

def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        raise Invalid("the password is longer than 1,024 characters.")


def create_staff(session: Session, *, email: str, role: str, password: str, now: datetime) -> StaffUser:
    email = normalize_email(email or "")
    if "@" not in email or len(email) > 320:
        raise Invalid("give a valid email address.")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}.")
    validate_password(password)
    user = StaffUser(email=email, role=role, password_hash=_hasher.hash(password), failed_logins=0,
                     created_at=now)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"a staff account for {email} exists already.") from exc
        raise
    return user


# ---- audit log ------------------------------------------------------------------------------------

def audit(session: Session, *, actor: str, action: str, target: str = "", campaign: Campaign | None = None,
          details: dict[str, Any] | None = None, now: datetime) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target[:200],
                       campaign_id=campaign.id if campaign is not None else None,
                       details=details or {}, at=now)
    session.add(entry)
    session.flush()
    return entry


# Sign-ins, sign-outs, account changes and token use: on the admins' audit page, not on every dashboard.
ACCOUNT_ACTIONS = ("signin.", "signout", "account.", "token.use")


def audit_log(session: Session, campaign: Campaign | None = None, limit: int = 50) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if campaign is not None:  # the campaign's entries and the ones about no campaign (tokens, payments)
        query = query.where((AuditEntry.campaign_id == campaign.id) | AuditEntry.campaign_id.is_(None))
        query = query.where(*[AuditEntry.action.not_like(f"{prefix}%") for prefix in ACCOUNT_ACTIONS])
    return list(session.scalars(query))


# ---- staff changes (each one audited) ---------------------------------------------------------------

def add_adjustment(session: Session, campaign: Campaign, *, delta: int, reason: str, actor: str,
                   now: datetime, via: str = "") -> CountAdjustment:
    """`actor`: a staff member's email, or who ran the CLI (`via="cli"`)."""
    row = campaigns.adjust(session, campaign, delta=delta, reason=reason, who=actor, now=now)
    audit(session, actor=actor, action="adjustment.add", target=campaign.slug, campaign=campaign,
          details={"delta": delta, "reason": row.reason, **({"via": via} if via else {})}, now=now)
    return row


def edit_copy(session: Session, campaign: Campaign, *, staff: StaffUser, locale: str, stage: str,
              headline: str, body: str, cta_label: str, cta_url: str, now: datetime,
              require_https: bool = False) -> Any:
    cta_url = (cta_url or "").strip()
    row = campaigns.set_copy(session, campaign, locale=locale, stage=stage, headline=headline, body=body,
                             cta_label=cta_label, cta_url=cta_url, who=staff.email, now=now,
                             require_https=require_https)
    audit(session, actor=staff.email, action="copy.edit", target=f"{campaign.slug}/{row.locale}/{stage}",
          campaign=campaign, details={"locale": row.locale, "stage": stage, "headline": headline,
                                      "body": body, "cta_label": cta_label, "cta_url": cta_url}, now=now)
    return row


# ---- API tokens -----------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    """SHA-256 is enough here: tokens are 256 random bits, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, staff: StaffUser, now: datetime) -> tuple[StaffApiToken, str]:
    name = (name or "").strip()
    if not (0 < len(name) <= 100):
        raise Invalid("a token needs a name of 1-100 characters (what uses it).", errors={"name": ["required"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = StaffApiToken(name=name, token_hash=_token_hash(token), prefix=token[:10], created_by=staff.id,
                        created_at=now)
    session.add(row)
    session.flush()
    audit(session, actor=staff.email, action="token.create", target=f"token {row.id} ({row.prefix}…)",
          details={"name": name}, now=now)
    return row, token


def revoke_token(session: Session, token_id: int, *, staff: StaffUser, now: datetime) -> StaffApiToken:
    row = session.get(StaffApiToken, token_id)
    if row is None:
        raise NotFound(f"No API token {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = now
        audit(session, actor=staff.email, action="token.revoke", target=f"token {row.id} ({row.prefix}…)",
              details={"name": row.name}, now=now)
        session.flush()
    return row


def list_tokens(session: Session) -> list[tuple[StaffApiToken, str | None]]:
    rows = session.execute(
        select(StaffApiToken, StaffUser.email).outerjoin(StaffUser, StaffUser.id == StaffApiToken.created_by)
        .order_by(StaffApiToken.revoked_at.is_not(None), StaffApiToken.created_at.desc())
    ).all()
    return [(t, email) for t, email in rows]


def token_user(session: Session, token: str, now: datetime) -> StaffApiToken | None:
    """The live token row for a bearer token, or None (`accounts.note_token_use` records its use)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _token_hash(token)
    row = session.scalar(select(StaffApiToken).where(StaffApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


# ---- dashboard numbers ----------------------------------------------------------------------------

@dataclass
class Dashboard:
    campaign: Campaign
    progress: dict[str, Any]
    first_day: date
    deadline: date
    today: date
    days: list[stats.Day]
    cumulative: list[tuple[date, int]]
    on_track: list[tuple[date, float]]
    projection: list[tuple[date, float]]
    breakdowns: dict[str, list[stats.Share]]
    funnel: list[stats.FunnelStep]
    funnel_note: str
    adjustments: list[CountAdjustment]


def list_campaigns(session: Session, now: datetime) -> list[dict[str, Any]]:
    out = []
    for c in session.scalars(select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.slug)):
        p = progress_rules.compute(count=c.count, goal=c.goal, starts_at=c.starts_at, ends_at=c.ends_at,
                                   timezone=c.timezone, now=now)
        out.append({"campaign": c, "progress": p})
    return out


def daily_rows(session: Session, campaign: Campaign) -> list[tuple[date, int, int]]:
    t = CampaignDaily
    rows = session.execute(
        select(t.day, func.sum(t.joined), func.sum(t.ended)).where(t.campaign_id == campaign.id)
        .group_by(t.day).order_by(t.day))
    return [(d, int(j or 0), int(e or 0)) for d, j, e in rows]


def breakdown_rows(session: Session, campaign: Campaign, dimension: str) -> list[tuple[str, int, int]]:
    t = CampaignDaily
    column = {"plan": t.plan, "source": t.source, "locale": t.locale}[dimension]
    rows = session.execute(
        select(column, func.sum(t.joined), func.sum(t.ended)).where(t.campaign_id == campaign.id)
        .group_by(column))
    return [(k, int(j or 0), int(e or 0)) for k, j, e in rows]


def funnel_counts(session: Session, campaign: Campaign, signups: int) -> tuple[list[stats.FunnelStep], str]:
    """Impressions and clicks (widget), checkouts started (payments) and sign-ups over the campaign."""
    from service.widget.models import WidgetDaily

    notes = []
    impressions = clicks = 0
    for kind, n in session.execute(
            select(WidgetDaily.type, func.sum(WidgetDaily.count))
            .where(WidgetDaily.campaign_id == campaign.id).group_by(WidgetDaily.type)):
        if kind == "impression":
            impressions = int(n or 0)
        elif kind == "click":
            clicks = int(n or 0)
    checkouts, note = checkout_starts(session, campaign)
    if note:
        notes.append(note)
    steps = stats.funnel([("Impressions", impressions), ("Clicks", clicks), ("Checkouts started", checkouts),
                          ("Sign-ups", signups)])
    return steps, "; ".join(notes)


def checkout_starts(session: Session, campaign: Campaign) -> tuple[int, str]:
    """Checkouts started for the campaign over its window, from payments' per-day counters."""
    from service.payments.models import CheckoutStart

    first = progress_rules.local_today(campaign.starts_at, "UTC")
    last = progress_rules.last_day(campaign.ends_at, "UTC")
    value = session.scalar(select(func.coalesce(func.sum(CheckoutStart.count), 0)).where(
        CheckoutStart.campaign_id == campaign.id, CheckoutStart.day >= first, CheckoutStart.day <= last))
    return int(value or 0), ""


def adjustments(session: Session, campaign: Campaign) -> list[CountAdjustment]:
    return list(session.scalars(select(CountAdjustment).where(CountAdjustment.campaign_id == campaign.id)
                                .order_by(CountAdjustment.created_at.desc(), CountAdjustment.id.desc())))


@dataclass(frozen=True)
class Aggregates:
    """What the dashboard reads from the roll-ups: grouped rows, small whatever the number of members."""

    daily: list[tuple[date, int, int]]
    breakdowns: dict[str, list[tuple[str, int, int]]]
    funnel: list[stats.FunnelStep]
    funnel_note: str


def aggregates(session: Session, campaign: Campaign) -> Aggregates:
    daily = daily_rows(session, campaign)
    funnel, note = funnel_counts(session, campaign, sum(j for _, j, _ in daily))
    return Aggregates(daily=daily, breakdowns={dim: breakdown_rows(session, campaign, dim)
                                               for dim in ("plan", "source", "locale")},
                      funnel=funnel, funnel_note=note)


def cache_key(campaign: Campaign) -> tuple:
    """The campaign's counter state: any change to its roll-ups changes it (the counter moves updated_at)."""
    return (campaign.id, campaign.updated_at, campaign.members_counted, campaign.adjustments_total)


def dashboard(session: Session, campaign: Campaign, now: datetime, cache: Any = None) -> Dashboard:
    """Everything the dashboard shows. `cache` (an AggregateCache) keeps the grouped roll-up rows per
    counter state, so repeated views of a busy campaign do not re-read its roll-ups."""
    agg = cache.get(cache_key(campaign), lambda: aggregates(session, campaign)) if cache is not None \
        else aggregates(session, campaign)
    payload = campaigns.progress_payload(session, campaign, None, now)
    first = progress_rules.local_today(campaign.starts_at, campaign.timezone)
    deadline = payload["deadline"]
    today = progress_rules.local_today(now, campaign.timezone)
    days = stats.dense_days(agg.daily, first, deadline)
    adj = adjustments(session, campaign)
    by_day: dict[date, int] = {}
    for a in adj:
        d = progress_rules.local_today(a.created_at, campaign.timezone)
        by_day[d] = by_day.get(d, 0) + a.delta
    upto = min(today, deadline)
    cumulative = stats.cumulative([d for d in days if d.day <= upto], by_day) if today >= first else []
    projection = stats.projection_line(today, payload["count"], float(payload["pace"]["daily_average_7d"]),
                                       campaign.goal, deadline) if payload["status"] == "active" else []
    breakdowns = {dim: stats.breakdown(rows) for dim, rows in agg.breakdowns.items()}
    return Dashboard(campaign=campaign, progress=payload, first_day=first, deadline=deadline, today=today,
                     days=days, cumulative=cumulative, on_track=stats.on_track_line(first, deadline, campaign.goal),
                     projection=projection, breakdowns=breakdowns, funnel=agg.funnel, funnel_note=agg.funnel_note,
                     adjustments=adj)


def signup_rows(session: Session, campaign: Campaign) -> list[tuple[date, str, str, str, int, int]]:
    """Per day, plan, source and locale: sign-ups and cancellations (the CSV export; no personal data)."""
    t = CampaignDaily
    rows = session.execute(
        select(t.day, t.plan, t.source, t.locale, func.sum(t.joined), func.sum(t.ended))
        .where(t.campaign_id == campaign.id)
        .group_by(t.day, t.plan, t.source, t.locale).order_by(t.day, t.plan, t.source, t.locale))
    return [(d, p or "", s or "", loc or "", int(j or 0), int(e or 0)) for d, p, s, loc, j, e in rows]


def stats_payload(session: Session, campaign: Campaign, now: datetime, cache: Any = None) -> dict[str, Any]:
    """The JSON stats for staff tools: the dashboard's numbers as plain data."""
    d = dashboard(session, campaign, now, cache)
    p = d.progress
    cumulative = dict(d.cumulative)
    return {
        "campaign": campaign.slug,
        "title": campaign.title,
        "count": p["count"],
        "goal": p["goal"],
        "remaining": p["remaining"],
        "percent": p["percent"],
        "status": p["status"],
        "days_left": p["days_left"],
        "starts_on": d.first_day,
        "deadline": d.deadline,
        "adjustments_total": campaign.adjustments_total,
        "pace": p["pace"],
        "daily": [{"date": x.day, "joined": x.joined, "ended": x.ended, "cumulative": cumulative.get(x.day)}
                  for x in d.days if x.day <= d.today],
        "breakdowns": {k: [vars(s) for s in v] for k, v in d.breakdowns.items()},
        "funnel": [{"step": s.name, "count": s.count, "rate": s.rate} for s in d.funnel],
        "generated_at": now,
    }


# ---- copy editor ----------------------------------------------------------------------------------

COPY_FIELDS = ("headline", "body", "cta_label")


def copy_locales(session: Session, campaign: Campaign) -> list[str]:
    from service.campaigns.models import BannerCopy

    have = set(session.scalars(select(BannerCopy.locale).where(BannerCopy.campaign_id == campaign.id).distinct()))
    return sorted(have | {campaign.default_locale})


def copy_for_editing(session: Session, campaign: Campaign, locale: str, stage: str) -> tuple[dict[str, str], str]:
    """The templates to edit for (locale, stage) and, when the stage has none of its own, where they
    are borrowed from (the banner shows the same)."""
    from service.campaigns.models import BannerCopy

    rows = list(session.scalars(select(BannerCopy).where(BannerCopy.campaign_id == campaign.id)))
    own = next((r for r in rows if r.locale == locale and r.stage == stage), None)
    if own is not None:
        return {"headline": own.headline, "body": own.body, "cta_label": own.cta_label,
                "cta_url": own.cta_url}, ""
    used_locale, templates = campaigns.pick_copy(rows, locale, campaign.default_locale, stage)
    return templates, f"No copy of its own yet: shown is what the banner uses now ({used_locale})."


def preview(session: Session, campaign: Campaign, *, locale: str, stage: str, templates: dict[str, str],
            now: datetime, require_https: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The banner as it would look at the current count with these templates: (payload, errors by field, the
    same sentences saving would give: a template must render for every stage's numbers, not only today's)."""
    from service.campaigns import copy

    p = progress_rules.compute(count=campaign.count, goal=campaign.goal, starts_at=campaign.starts_at,
                               ends_at=campaign.ends_at, timezone=campaign.timezone, now=now,
                               net_last_7d=campaigns.net_last_7d(session, campaign, now))
    norm = copy.normalize_locale(locale) or campaign.default_locale
    values = copy.Values(count=p.count, goal=p.goal, remaining=p.remaining, percent=p.percent,
                         days_left=p.days_left, deadline=p.deadline)
    errors = campaigns.copy_errors(campaign, norm, templates, require_https=require_https)
    banner: dict[str, str] = {}
    for name in COPY_FIELDS:
        try:
            banner[name] = copy.render(templates.get(name, ""), values, norm)
        except copy.TemplateError:  # its sentence is in errors already
            banner[name] = ""
    banner["cta_url"] = campaigns.banner_link(templates.get("cta_url"), campaign.join_url)
    banner["locale"] = norm.replace("_", "-")
    banner["dir"] = copy.text_direction(norm)
    payload = {"campaign": campaign.slug, "title": campaign.title, "count": p.count, "goal": p.goal,
               "percent": p.percent, "stage": stage, "banner": banner}
    return payload, errors


# ---- payments health (admin) ----------------------------------------------------------------------

@dataclass
class EventRow:
    id: int
    stripe_id: str
    type: str
    outcome: str
    error: str
    attempts: int
    received_at: datetime | None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


def payments_health(session: Session, limit: int = 25) -> dict[str, Any]:
    """Recent webhook events (failed first, newest first) and the last reconciliation run with its changes.

    Reads the payments package's ledger (`webhook_events`) and `reconciliation_runs`; never the payloads."""
    from service.payments.models import ReconciliationRun, WebhookEvent

    w = WebhookEvent
    rows = session.execute(
        select(w.id, w.stripe_event_id, w.type, w.status, w.last_error, w.attempts, w.received_at)
        .order_by((w.status == "failed").desc(), w.received_at.desc(), w.id.desc()).limit(limit))
    events = [EventRow(i, sid, t, st, err or "", n or 0, at) for i, sid, t, st, err, n, at in rows]
    failed_total = session.scalar(select(func.count(w.id)).where(w.status == "failed")) or 0
    run = session.scalar(select(ReconciliationRun).order_by(ReconciliationRun.started_at.desc(),
                                                            ReconciliationRun.id.desc()).limit(1))
    return {"events": events, "failed_total": int(failed_total), "can_replay": True, "note": "",
            "reconciliation": describe_run(run) if run is not None else None}


def describe_run(run: Any) -> dict[str, Any]:
    """A reconciliation run in words: when, what it examined, and each change (field: before -> after)."""
    import json

    try:
        summary = json.loads(run.summary or "{}")
    except ValueError:
        summary = {}
    changes = []
    for ch in summary.get("changes", []) or []:
        fields = ", ".join(f"{name}: {pair[0]} → {pair[1]}" if isinstance(pair, list | tuple) and len(pair) == 2
                           else f"{name}: {pair}" for name, pair in (ch.get("fields") or {}).items())
        who = f"member {ch['member_id']}" if ch.get("member_id") else "no member"
        changes.append(f"{ch.get('subscription', '?')} ({who}): {fields or 'changed'}")
    errors = [str(e) for e in summary.get("errors", []) or []]
    started = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
    state = "still running" if run.finished_at is None else "finished"
    text = (f"{'Dry run' if run.dry_run else 'Run'} {run.id} started {started}, {state}: examined "
            f"{run.examined:,} subscriptions, changed {run.changed:,}"
            + (f" (since {run.since})" if run.since else "") + ".")
    return {"id": run.id, "summary": text, "changes": changes + [f"Error: {e}" for e in errors]}


def replay_webhook(session: Session, event_id: int, *, staff: StaffUser, settings: Any, now: datetime) -> str:
    """Re-apply one stored webhook event with the payments package's replay (which commits), then audit it."""
    from service.payments import services as payments
    from service.payments.models import WebhookEvent

    row = session.get(WebhookEvent, event_id)
    if row is None:
        raise NotFound(f"No webhook event {event_id}.")
    stripe_id, kind, before = row.stripe_event_id, row.type, row.status
    results = list(payments.replay(session, failed=False, event_ids=[stripe_id], settings=settings, now=now))
    result = results[0] if results else None
    outcome = result.outcome if result is not None else "missing"
    error = (result.error if result is not None else "")[:500]
    audit(session, actor=staff.email, action="webhook.replay", target=f"{stripe_id} ({kind})",
          details={"event": stripe_id, "type": kind, "before": before, "outcome": outcome,
                   **({"error": error} if error else {})}, now=now)
    return outcome + (f" ({error})" if error else "")
