"""Reconciliation: every subscription Stripe lists compared with local state and repaired through the webhook path;
then every paid payment-mode Checkout Session (contributions, gifts: one_time.py) that no webhook recorded is
recorded through the same handlers, dated by the session's creation (Stripe's list has no payment time)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import UpstreamError
from service.members.models import Subscription
from service.payments import apply, events, handlers, one_time, pricing
from service.payments.models import ReconciliationRun
from service.payments.settings import PaymentSettings
from service.payments.transactions import in_transaction, lock


@dataclass
class Change:
    subscription: str
    member_id: int | None
    fields: dict[str, tuple[Any, Any]]
    member: dict[str, tuple[Any, Any]]

    def describe(self) -> str:
        parts = [f"{k} {_show(a)} -> {_show(b)}" for k, (a, b) in self.fields.items()]
        parts += [f"member.{k} {_show(a)} -> {_show(b)}" for k, (a, b) in self.member.items()]
        who = f" (member {self.member_id})" if self.member_id else ""
        return f"{self.subscription}{who}: " + "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {"subscription": self.subscription, "member_id": self.member_id,
                "fields": {k: [_show(a), _show(b)] for k, (a, b) in self.fields.items()},
                "member": {k: [_show(a), _show(b)] for k, (a, b) in self.member.items()}}


def _show(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value == "":
        return "''"
    return value


def reconcile_one(session: Session, obj: dict[str, Any], settings: PaymentSettings, now: datetime,
                  run_ref: str) -> Change | None:
    """Apply a subscription as Stripe reports it now, through the webhook path (observed at `now`,
    so it never overwrites newer webhook state). Returns what changed, or None."""
    ctx = apply.Context(session=session, now=now, at=now, event_id=run_ref, prices=settings.prices)
    match = (ctx.plan_for(events.subscription_price_ids(obj))
             or pricing.flexible_plan(session, events.subscription_products(obj)))
    if match is None or bool(obj.get("livemode")) != settings.livemode:
        return None
    plan, price = match
    before = session.scalar(select(Subscription).where(Subscription.stripe_id == obj["id"]))
    old = {name: getattr(before, name) for name in (*apply.SNAPSHOT_FIELDS, "status")} if before else None
    if before is not None and _same(before, events.subscription_snapshot(obj, price), plan):
        return None
    handlers.on_subscription(ctx, obj)
    members = apply.finish(ctx)
    sub = session.scalar(select(Subscription).where(Subscription.stripe_id == obj["id"]))
    assert sub is not None
    new = {name: getattr(sub, name) for name in (*apply.SNAPSHOT_FIELDS, "status")}
    if old is None:  # a subscription no webhook told us about
        fields = {k: (None, v) for k, v in new.items() if v not in (None, "", False)}
    else:
        fields = {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}
    member_changes = members.get(sub.member_id, {})
    if not fields and not member_changes:
        return None
    return Change(obj["id"], sub.member_id, fields, member_changes)


def _same(sub: Subscription, snap: events.SubscriptionSnapshot, plan: str) -> bool:
    return (sub.stripe_status == snap.status and sub.price_id == snap.price_id and sub.plan == plan
            and sub.current_period_end == snap.current_period_end
            and sub.cancel_at_period_end == snap.cancel_at_period_end
            and sub.canceled_at == snap.canceled_at and sub.ended_at == snap.ended_at)


def list_subscriptions(client: stripe.StripeClient, since: date | None) -> Iterable[dict[str, Any]]:
    params: dict[str, Any] = {"status": "all", "limit": 100, "expand": ["data.customer"]}
    if since is not None:
        params["created"] = {"gte": int(datetime.combine(since, dtime(0), UTC).timestamp())}
    page = client.v1.subscriptions.list(params=params)
    for sub in page.auto_paging_iter():
        yield sub.to_dict()


def list_payment_sessions(client: stripe.StripeClient, since: date | None) -> Iterable[dict[str, Any]]:
    """Completed Checkout Sessions in payment mode (all pages)."""
    params: dict[str, Any] = {"status": "complete", "limit": 100}
    if since is not None:
        params["created"] = {"gte": int(datetime.combine(since, dtime(0), UTC).timestamp())}
    for obj in client.v1.checkout.sessions.list(params=params).auto_paging_iter():
        found = obj.to_dict()
        if found.get("mode") == "payment":
            yield found


def record_payment_session(session: Session, obj: dict[str, Any], settings: PaymentSettings, now: datetime,
                           run_ref: str) -> str | None:
    """Record a paid one-time payment a webhook missed, through the kind's webhook handler; a line saying
    what was recorded, or None (recorded already, unpaid, another kind or mode)."""
    kind = one_time.kind_of(obj)
    if (kind not in one_time.SESSION_KINDS or not one_time.paid_session(obj)
            or bool(obj.get("livemode")) != settings.livemode):
        return None
    check = one_time.RECORDED.get(kind)
    if check is not None and check(session, obj):
        return None
    at = events.ts(obj.get("created")) or now
    ctx = apply.Context(session=session, now=now, at=at, event_id=run_ref, prices=settings.prices)
    if one_time.on_session_completed(ctx, obj) != "applied":
        return None
    apply.finish(ctx)
    if check is None:
        return None  # applied again (idempotent); nothing known to have changed
    amount = obj.get("amount_total")
    return f"{kind} {obj.get('id')} ({events.ref(obj.get('payment_intent')) or '-'}, {amount} {obj.get('currency')})"


def reconcile_payments(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *,
                       since: date | None, dry_run: bool, now: datetime, run_ref: str,
                       echo: Callable[[str], None]) -> tuple[int, list[str]]:
    """Every completed payment-mode session from Stripe; (examined, what was recorded)."""
    examined, recorded = 0, []
    for obj in list_payment_sessions(client, since):
        examined += 1

        def work(obj: dict[str, Any] = obj) -> str | None:
            return record_payment_session(session, obj, settings, now, run_ref)

        if dry_run:
            lock(session)
            try:
                line = work()
            finally:
                session.rollback()
        else:
            line = in_transaction(session, work)
        if line is not None:
            recorded.append(line)
            echo(("would record " if dry_run else "recorded ") + line)
    return examined, recorded


def reconcile(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *, since: date | None,
              dry_run: bool, now: datetime, echo: Callable[[str], None] = lambda _line: None,
              progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda items: items,
              clock: Callable[[], datetime] | None = None) -> ReconciliationRun:
    """Compare every subscription Stripe lists (status=all) with local state and repair what differs,
    one locked transaction per subscription (safe while webhooks arrive). `dry_run` rolls back.

    Every observation is dated `now`, the start of the run: a webhook about a change Stripe made
    while the run was listing is newer, so it wins whichever is applied first."""
    run = ReconciliationRun(started_at=now, dry_run=dry_run, since=since, examined=0, changed=0, summary="")
    session.add(run)
    session.commit()
    run_ref = f"reconcile:{run.id}"
    changes: list[Change] = []
    errors: list[str] = []
    examined = 0
    try:
        for obj in progress(list_subscriptions(client, since)):
            examined += 1

            def work(obj: dict[str, Any] = obj) -> Change | None:
                return reconcile_one(session, obj, settings, now, run_ref)

            if dry_run:
                lock(session)
                try:
                    change = work()
                finally:
                    session.rollback()
            else:
                change = in_transaction(session, work)
            if change is not None:
                changes.append(change)
                echo(("would change " if dry_run else "changed ") + change.describe())
        payments = reconcile_payments(session, client, settings, since=since, dry_run=dry_run, now=now,
                                      run_ref=run_ref, echo=echo)
    except stripe.StripeError as exc:
        session.rollback()
        payments = (0, [])
        errors.append(f"Stripe error after {examined} subscriptions: {type(exc).__name__} "
                      f"(request id {getattr(exc, 'request_id', '') or 'unknown'})")
    run = session.get(ReconciliationRun, run.id)  # type: ignore[assignment]
    run.examined, run.changed, run.finished_at = examined, len(changes), clock() if clock else now
    run.summary = json.dumps({"changes": [c.as_json() for c in changes], "errors": errors,
                              "payments": {"examined": payments[0], "recorded": payments[1]}})
    session.commit()
    if errors:
        raise UpstreamError(errors[0])
    return run
