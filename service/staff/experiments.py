"""Staff side of experiments (no Flask): variant changes written to the audit log (staff API, copy editor and
CLI alike), and the experiment's figures per arm with the verdict (rules in campaigns/experiments.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.campaigns import count_storage, experiments, variants
from service.campaigns.counting import MemberFacts, counts
from service.campaigns.models import CONTROL, BannerVariant, Campaign, ExperimentDaily
from service.db import aware
from service.members.models import Member, Subscription
from service.staff import audit

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _details(row: BannerVariant) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "locale": row.locale, "stage": row.stage, "weight": row.weight,
            "status": row.status, "headline": row.headline, "body": row.body, "cta_label": row.cta_label,
            "cta_url": row.cta_url}


def _record(session: Session, campaign: Campaign, row: BannerVariant, action: str, actor: str, now: datetime,
            **extra: Any) -> None:
    audit.record(session, actor=actor, action=action, target=f"{campaign.slug}/variants/{row.id}", campaign=campaign,
                 details={**_details(row), **extra}, now=now)


def add_variant(session: Session, campaign: Campaign, *, actor: str, now: datetime, require_https: bool = False,
                **fields: Any) -> BannerVariant:
    row = variants.add(session, campaign, who=actor, now=now, require_https=require_https, **fields)
    _record(session, campaign, row, "variant.add", actor, now)
    return row


def change_variant(session: Session, campaign: Campaign, row: BannerVariant, *, actor: str, now: datetime,
                   weight: int | None = None, status: str | None = None, promote: bool = False,
                   require_https: bool = False) -> BannerVariant:
    """Apply a PATCH: a new weight, a status (stop or run again), or promotion to the stage's copy."""
    if weight is not None and weight != row.weight:
        before = row.weight
        variants.set_weight(session, campaign, row, weight, now)
        _record(session, campaign, row, "variant.weight", actor, now, weight_before=before)
    if status is not None and status != row.status:
        variants.set_status(session, campaign, row, status, now)
        _record(session, campaign, row, "variant.stop" if status == "stopped" else "variant.run", actor, now)
    if promote:
        variants.promote(session, campaign, row, who=actor, now=now, require_https=require_https)
        _record(session, campaign, row, "variant.promote", actor, now)
    return row


def delete_variant(session: Session, campaign: Campaign, row: BannerVariant, *, actor: str, now: datetime) -> None:
    _record(session, campaign, row, "variant.delete", actor, now)
    variants.remove(session, campaign, row)


# --- figures ------------------------------------------------------------------------------------------------

def event_totals(session: Session, campaign: Campaign) -> dict[int, Counter[str]]:
    """Impressions, clicks and checkouts per arm, over the whole campaign."""
    out: dict[int, Counter[str]] = defaultdict(Counter)
    for variant_id, type_, n in session.execute(
            select(ExperimentDaily.variant_id, ExperimentDaily.type, func.sum(ExperimentDaily.count))
            .where(ExperimentDaily.campaign_id == campaign.id)
            .group_by(ExperimentDaily.variant_id, ExperimentDaily.type)):
        out[variant_id][type_] += int(n or 0)
    return out


def signups(session: Session, campaign: Campaign) -> Counter[int]:
    """Members counted in the campaign (counting.counts, now), per arm of their checkout: the arm of their
    earliest subscription attributed to this campaign with one (subscription metadata `variant`)."""
    rows = session.execute(
        select(Subscription.member_id, Subscription.variant_id, Subscription.stripe_created_at,
               Subscription.id, Member.first_paid_at, Member.ended_at, Member.first_payment_reversed_at)
        .join(Member, Member.id == Subscription.member_id)
        .where(Subscription.campaign == campaign.slug, Subscription.variant_id.is_not(None)))
    per_member: dict[int, list[tuple[Any, int]]] = defaultdict(list)
    facts: dict[int, MemberFacts] = {}
    for member_id, variant_id, created, sub_id, first_paid, ended, reversed_at in rows:
        per_member[member_id].append(((aware(created) or _EPOCH, sub_id), variant_id))
        facts[member_id] = MemberFacts(aware(first_paid), aware(ended), aware(reversed_at))
    window = count_storage.window_of(campaign)
    out: Counter[int] = Counter()
    for member_id, subs in per_member.items():
        arm = experiments.first_arm(subs)
        if arm is not None and counts(facts[member_id], window):
            out[arm] += 1
    return out


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def report(session: Session, campaign: Campaign) -> dict[str, Any]:
    """GET /v1/staff/campaigns/{slug}/experiment: every arm (the control first, then each variant ever run,
    in id order) with its figures and 95% intervals, and the verdict over them."""
    rows = variants.list_for(session, campaign)
    # No variant ever: nothing to attribute, and the dashboard's cost stays that of its roll-ups.
    events = event_totals(session, campaign) if rows else {}
    joined = signups(session, campaign) if rows else Counter()
    arms_meta: list[dict[str, Any]] = [{"id": CONTROL, "name": "control", "weight": 100 - _running_weight(rows),
                                        "status": "running" if any(r.status == "running" for r in rows) else
                                        "stopped", "locale": None, "stage": None}]
    arms_meta += [{"id": r.id, "name": r.name, "weight": r.weight, "status": r.status, "locale": r.locale,
                   "stage": r.stage} for r in rows]
    arms, out = [], []
    for meta in arms_meta:
        e = events.get(meta["id"], Counter())
        arm = experiments.Arm(meta["id"], e["impression"], e["click"], e["checkout"], joined.get(meta["id"], 0))
        arms.append(arm)
        out.append({**meta, "impressions": arm.impressions, "clicks": arm.clicks, "checkouts": arm.checkouts,
                    "signups": arm.signups, "click_rate": _rate(arm.click_rate),
                    "conversion_rate": _rate(arm.conversion_rate),
                    "interval": [round(x, 6) for x in arm.interval],
                    "click_interval": [round(x, 6) for x in arm.click_interval]})
    verdict, leader = experiments.verdict(arms) if rows else ("too_early", None)
    return {"campaign": campaign.slug, "variants": out, "verdict": verdict, "leader": leader,
            "min_signups": experiments.MIN_SIGNUPS}


def _running_weight(rows: list[BannerVariant]) -> int:
    """The control's share is 100 minus the running variants' weights of a stage and locale; over several
    stages or locales the largest such sum is shown (the smallest share the control has anywhere)."""
    sums: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r.status == "running":
            sums[(r.locale, r.stage)] += r.weight
    return max(sums.values(), default=0)
