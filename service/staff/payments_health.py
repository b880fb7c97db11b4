"""Payments health for admins: recent webhook events (failed first), the last reconciliation in words, and
replaying one stored event (audited). Reads payments' ledger and runs; never the payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.payments import ledger
from service.payments.events import HANDLED_TYPES
from service.payments.models import ReconciliationRun, WebhookEvent
from service.staff import audit, truths
from service.staff.models import StaffUser


@dataclass
class EventRow:
    id: int
    stripe_id: str
    type: str
    outcome: str
    error: str
    attempts: int
    received_at: datetime | None
    why: str = ""  # an ignored event: why it changed nothing

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


def overview(session: Session, limit: int = 25, livemode: bool = False) -> dict[str, Any]:
    """Recent webhook events (failed first, newest first; an ignored one says why) and the last reconciliation
    run with its changes. `livemode`: whether the service uses a live Stripe key.

    Reads the payments package's ledger (`webhook_events`) and `reconciliation_runs`; never the payloads."""
    w = WebhookEvent
    rows = session.execute(
        select(w.id, w.stripe_event_id, w.type, w.status, w.last_error, w.attempts, w.received_at, w.livemode)
        .order_by((w.status == "failed").desc(), w.received_at.desc(), w.id.desc()).limit(limit))
    handled = frozenset(HANDLED_TYPES)
    events = [EventRow(i, sid, t, st, err or "", n or 0, at,
                       truths.ignored_why(t, lm, livemode, handled) if st == "ignored" else "")
              for i, sid, t, st, err, n, at, lm in rows]
    failed_total = session.scalar(select(func.count(w.id)).where(w.status == "failed")) or 0
    run = session.scalar(select(ReconciliationRun).order_by(ReconciliationRun.started_at.desc(),
                                                            ReconciliationRun.id.desc()).limit(1))
    return {"events": events, "failed_total": int(failed_total),
            "reconciliation": describe_run(run) if run is not None else None}


def describe_run(run: Any) -> dict[str, Any]:
    """A reconciliation run in words: when, what it examined, and each change (field: before -> after)."""
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
    state = "still running" if run.finished_at is None else "failed" if errors else "finished"
    text = (f"{'Dry run' if run.dry_run else 'Run'} {run.id} started {started}, {state}: examined "
            f"{run.examined:,} subscriptions, changed {run.changed:,}"
            + (f" (since {run.since})" if run.since else "") + ".")
    return {"id": run.id, "summary": text, "failed": bool(errors), "changes": changes + [f"Error: {e}" for e in errors]}


def replay_webhook(session: Session, event_id: int, *, staff: StaffUser, settings: Any, now: datetime) -> str:
    """Re-apply one stored webhook event with the payments package's replay (which commits), then audit it."""
    row = session.get(WebhookEvent, event_id)
    if row is None:
        raise NotFound(f"No webhook event {event_id}.")
    stripe_id, kind, before = row.stripe_event_id, row.type, row.status
    results = list(ledger.replay(session, failed=False, event_ids=[stripe_id], settings=settings, now=now))
    result = results[0] if results else None
    outcome = result.outcome if result is not None else "missing"
    error = (result.error if result is not None else "")[:500]
    audit.record(session, actor=staff.email, action="webhook.replay", target=f"{stripe_id} ({kind})",
                 details={"event": stripe_id, "type": kind, "before": before, "outcome": outcome,
                          **({"error": error} if error else {})}, now=now)
    return outcome + (f" ({error})" if error else "")
