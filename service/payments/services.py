"""Payments use cases: webhook ingestion through the ledger, replay, checkout, reconciliation.

Every application of Stripe facts runs in one transaction that first takes the payments write lock
(`BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock on PostgreSQL): the ledger row, the
facts and the derived members commit together or not at all, and concurrent deliveries (the same event
twice included) are applied one after the other, so a duplicate always finds the first one's ledger row.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any
from urllib.parse import urlsplit

import stripe
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.campaigns.services import get_campaign
from service.config import csv
from service.db import is_unique_violation
from service.errors import Invalid, UpstreamError
from service.members.models import Subscription
from service.payments import apply, events, handlers
from service.payments.models import CheckoutStart, ReconciliationRun, WebhookEvent

log = logging.getLogger(__name__)

LOCK_KEY = 0x5354_5250  # "STRP": the payments apply lock on PostgreSQL
MAX_TRIES = 5


# --- settings -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentSettings:
    prices: dict[str, str]  # price id -> plan name
    livemode: bool
    webhook_secrets: tuple[str, ...]
    tolerance: int = 300
    allowed_origins: tuple[str, ...] = ()

    @property
    def plans(self) -> dict[str, str]:
        return {plan: price for price, plan in self.prices.items()}


def parse_prices(value: str) -> dict[str, str]:
    """'monthly=price_1,yearly=price_2' -> {'price_1': 'monthly', 'price_2': 'yearly'}"""
    out = {}
    for part in csv(value):
        plan, sep, price = part.partition("=")
        if not sep or not plan.strip() or not price.strip():
            raise ValueError(f"STRIPE_PRICES entry {part!r} is not plan=price_id")
        out[price.strip()] = plan.strip()
    return out


def settings_from(config: Mapping[str, Any]) -> PaymentSettings:
    return PaymentSettings(
        prices=parse_prices(config.get("STRIPE_PRICES") or ""),
        livemode=str(config.get("STRIPE_API_KEY") or "").startswith(("sk_live_", "rk_live_")),
        webhook_secrets=tuple(csv(config.get("STRIPE_WEBHOOK_SECRET") or "")),
        tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE") or 300),
        allowed_origins=tuple(origin(o) for o in csv(config.get("SITE_ALLOWED_ORIGINS") or "")),
    )


# --- locking and retries --------------------------------------------------------------------------------

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


# --- webhooks -------------------------------------------------------------------------------------------

class SignatureError(ValueError):
    """The body is not a verified Stripe event."""


class UnusableBody(SignatureError):
    """Correctly signed, but not JSON, or without an id to store it under."""


def verify(payload: bytes, header: str | None, settings: PaymentSettings) -> dict[str, Any]:
    """Check `Stripe-Signature` with stripe-python against each configured secret (rotation), then
    parse. Raises SignatureError with a reason that is safe to show.

    A verified body is returned as soon as it is a JSON object with an id, its ledger key, however
    malformed the rest: `ingest` stores it and records why it cannot be applied. A signed body without
    an id is refused (400): Stripe sends none (every event, snapshot or thin, has an `evt_` id), so it
    comes from another holder of the secret, and there is nothing to store it under or to retry."""
    if not header:
        raise SignatureError("Missing Stripe-Signature header.")
    if not settings.webhook_secrets:
        raise SignatureError("No webhook secret is configured.")
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("The body is not UTF-8.") from exc
    reasons = []
    for secret in settings.webhook_secrets:
        try:
            stripe.WebhookSignature.verify_header(body, header, secret, settings.tolerance)
            break
        except stripe.SignatureVerificationError as exc:
            reasons.append(str(getattr(exc, "user_message", None) or exc))
    else:
        if any("tolerance" in r for r in reasons):  # signed with a good secret, but too long ago
            raise SignatureError("The signature's timestamp is outside the tolerance (replayed or delayed).")
        raise SignatureError("The Stripe-Signature header does not match the body.")
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UnusableBody("The body is signed but is not JSON.") from exc
    if events.event_id(event) is None:
        log.warning("signed webhook body without a usable event id refused")
        raise UnusableBody("The body is signed but is not a Stripe event: it needs a JSON object with a "
                             "string id of at most 255 printable characters.")
    return event


@dataclass
class Applied:
    event_id: str
    type: str
    outcome: str  # applied | ignored | duplicate | failed
    error: str = ""
    members: dict[int, dict[str, tuple[Any, Any]]] = field(default_factory=dict)


class HandlerFailed(Exception):
    def __init__(self, result: Applied) -> None:
        super().__init__(result.error)
        self.result = result


def apply_event(session: Session, event: dict[str, Any], settings: PaymentSettings, now: datetime,
                before_finish: Callable[[str], None] = lambda _outcome: None,
                ) -> tuple[str, dict[int, dict[str, tuple[Any, Any]]]]:
    """Apply one event's facts (no ledger, no commit): ('applied' | 'ignored', member changes).
    `before_finish(outcome)` runs once the outcome is known, before the members are derived (the
    ledger row then goes out with the same flush as the members). Raises events.NotAnEvent when
    the event is not a well-formed snapshot event (recorded as a failure like any handler error)."""
    events.check_event(event)
    if bool(event.get("livemode")) != settings.livemode:
        before_finish("ignored")
        return "ignored", {}
    handler = handlers.HANDLERS.get(event["type"])
    if handler is None:
        before_finish("ignored")
        return "ignored", {}
    ctx = apply.Context(session=session, now=now, at=events.ts(event["created"]),  # type: ignore[arg-type]
                        event_id=event["id"], prices=settings.prices)
    outcome = handler(ctx, events.event_object(event))
    before_finish(outcome)
    return outcome, apply.finish(ctx)


def _ledger_row(event: dict[str, Any], raw: str, now: datetime) -> WebhookEvent:
    """Never raises for an event with an id (see events.ledger_fields)."""
    return WebhookEvent(**events.ledger_fields(event, now), payload=raw, status="failed", attempts=0,
                        last_error="", received_at=now)


def _kind(event: dict[str, Any]) -> str:
    """The event's type for logs and answers ('' when it has none)."""
    kind = event.get("type")
    return kind[:100] if isinstance(kind, str) else ""


def record_and_apply(session: Session, event: dict[str, Any], raw: str, settings: PaymentSettings,
                     now: datetime, *, replay: bool = False, known_new: bool = False) -> Applied:
    """Ledger first: a duplicate of an applied or ignored event changes nothing. Caller commits.

    A new event's ledger row is added after its effects, with its outcome (one INSERT, no UPDATE); a
    concurrent insert of the same id then fails the commit on the unique id, and the retry finds the
    row. `known_new`: the caller has just seen no row for this id (saves re-reading it)."""
    row = None if known_new else session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event["id"]))
    if row is not None and row.status in ("applied", "ignored") and not replay:
        return Applied(event["id"], _kind(event), "duplicate")

    def record(outcome: str) -> None:
        nonlocal row
        if row is None:
            row = _ledger_row(event, raw, now)
            session.add(row)
        row.status, row.attempts, row.last_error = outcome, (row.attempts or 0) + 1, ""
        row.applied_at = now if outcome == "applied" else row.applied_at

    outcome, members = apply_event(session, event, settings, now, before_finish=record)
    return Applied(event["id"], _kind(event), outcome, members=members)


def record_failure(session: Session, event: dict[str, Any], raw: str, error: str, now: datetime) -> None:
    """In its own transaction (the failed one was rolled back): the event is `failed`, attempts + 1."""
    def work() -> None:
        row = session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event["id"]))
        if row is None:
            row = _ledger_row(event, raw, now)
            session.add(row)
        if row.status == "applied":
            return  # applied meanwhile by a concurrent delivery
        row.status, row.attempts = "failed", (row.attempts or 0) + 1
        row.last_error = error.replace("\x00", "")[:2000]

    in_transaction(session, work)


def ingest(session: Session, event: dict[str, Any], raw: str, settings: PaymentSettings, now: datetime,
           *, replay: bool = False) -> Applied:
    """Store and apply one verified event exactly once. Raises HandlerFailed (after recording the
    failure) when applying it raised, so that the caller answers 500 and Stripe retries.

    A delivery of an event already applied (or ignored) is answered from one indexed read, without the
    lock: that status is final, so reading it committed is enough. Otherwise the locked transaction
    applies it; when this read found no row, the first attempt does not read it again (a concurrent
    delivery that got there first makes the commit fail on the unique id; the retry then reads it)."""
    known_new = False
    if not replay:
        status = session.scalar(select(WebhookEvent.status).where(WebhookEvent.stripe_event_id == event["id"]))
        if status in ("applied", "ignored"):
            session.rollback()
            log.info("stripe event %s (%s): duplicate", event["id"], _kind(event))
            return Applied(event["id"], _kind(event), "duplicate")
        known_new = status is None
    attempts = iter(range(MAX_TRIES + 1))

    def work() -> Applied:
        first = next(attempts) == 0
        return record_and_apply(session, event, raw, settings, now, replay=replay, known_new=known_new and first)

    try:
        result = in_transaction(session, work)
    except Exception as exc:  # noqa: BLE001 - any handler error is recorded, then reported
        session.rollback()
        error = f"{type(exc).__name__}: {exc}"
        log.warning("stripe event %s (%s) failed: %s", event["id"], _kind(event), type(exc).__name__)
        record_failure(session, event, raw, error, now)
        raise HandlerFailed(Applied(event["id"], _kind(event), "failed", error=error)) from exc
    log.info("stripe event %s (%s): %s", event["id"], _kind(event), result.outcome)
    return result


def replay(session: Session, *, failed: bool, event_ids: Iterable[str], settings: PaymentSettings,
           now: datetime) -> Iterable[Applied]:
    """Re-apply stored events (all failed ones, or the ids given) from their stored payloads."""
    if failed:
        ids = list(session.scalars(select(WebhookEvent.stripe_event_id).where(WebhookEvent.status == "failed")
                                   .order_by(WebhookEvent.created, WebhookEvent.id)))
    else:
        ids = list(event_ids)
    session.rollback()
    for event_id in ids:
        raw = session.scalar(select(WebhookEvent.payload).where(WebhookEvent.stripe_event_id == event_id))
        session.rollback()
        if raw is None:
            yield Applied(event_id, "", "missing", error="no such event in the ledger")
            continue
        event = json.loads(raw)
        try:
            yield ingest(session, event, raw, settings, now, replay=True)
        except HandlerFailed as exc:
            yield exc.result


# --- checkout -------------------------------------------------------------------------------------------

def origin(url: str) -> str:
    """scheme://host[:port], lower-cased, default ports dropped ('' when not an absolute http(s) URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def start_checkout(session: Session, client: stripe.StripeClient, settings: PaymentSettings, *, campaign: str,
                   plan: str, success_url: str, cancel_url: str, now: datetime, email: str | None = None,
                   locale: str | None = None, reader_id: str | None = None, article_id: str | None = None,
                   referrer: str | None = None) -> dict[str, str]:
    """Create a Checkout Session (subscription mode) with attribution metadata on the session and on
    the subscription, and count the start for the funnel."""
    found = get_campaign(session, campaign)
    price = settings.plans.get(plan)
    if price is None:
        known = ", ".join(sorted(settings.plans)) or "none configured"
        raise Invalid(f"Unknown plan '{plan[:64]}' (plans: {known}).", errors={"plan": ["Unknown plan."]})
    for name, url in (("success_url", success_url), ("cancel_url", cancel_url)):
        if not origin(url) or origin(url) not in settings.allowed_origins:
            raise Invalid(f"{name} must be on one of the site's allowed origins.",
                          errors={name: ["Origin not allowed."]})
    source = events.source_of(article_id, referrer)
    metadata = {k: v for k, v in (("campaign", found.slug), ("plan", plan), ("locale", locale or ""),
                                  ("source", source), ("reader_id", reader_id or ""),
                                  ("article_id", article_id or "")) if v}
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "locale": events.checkout_locale(locale),
    }
    if reader_id:
        params["client_reference_id"] = reader_id
    if email:
        params["customer_email"] = email
    try:
        created = client.v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        request_id = getattr(exc, "request_id", None) or ""
        message = getattr(exc, "user_message", None) or "Stripe refused the request"
        log.warning("stripe checkout failed: %s (request %s)", type(exc).__name__, request_id)
        raise UpstreamError(f"Stripe could not create the checkout: {message} (Stripe request id: "
                            f"{request_id or 'unknown'}).", stripe_request_id=request_id) from exc
    count_start(session, found.id, now.astimezone(UTC).date(), plan, (locale or "")[:35], source)
    return {"id": created.id, "url": created.url}


def count_start(session: Session, campaign_id: int, day: date, plan: str, locale: str, source: str) -> None:
    conn = session.connection()
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    table = CheckoutStart.__table__
    stmt = maker(table).values(campaign_id=campaign_id, day=day, plan=plan, locale=locale, source=source, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["campaign_id", "day", "plan", "locale", "source"],
                                      set_={"count": table.c.count + 1})
    session.execute(stmt)


# --- reconciliation -------------------------------------------------------------------------------------

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
    match = ctx.plan_for(events.subscription_price_ids(obj))
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
    except stripe.StripeError as exc:
        session.rollback()
        errors.append(f"Stripe error after {examined} subscriptions: {type(exc).__name__} "
                      f"(request id {getattr(exc, 'request_id', '') or 'unknown'})")
    run = session.get(ReconciliationRun, run.id)  # type: ignore[assignment]
    run.examined, run.changed, run.finished_at = examined, len(changes), clock() if clock else now
    run.summary = json.dumps({"changes": [c.as_json() for c in changes], "errors": errors})
    session.commit()
    if errors:
        raise UpstreamError(errors[0])
    return run
