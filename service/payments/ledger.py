"""The webhook ledger: each verified event stored and applied exactly once, failures recorded, replay.

Each event is applied in the locked transaction of `transactions.py`, its ledger row (`webhook_events`)
written with the same commit as the facts and the derived members.

An event about a person whose data was erased (service/members/tombstones.py) is stored without its body
(`ERASED_BODY`: id, type and outcome stay) whatever its type: its facts still apply, but a late refund,
dispute or renewal must not keep their address (billing details, receipt email) until retention. Which
events: `erased_body` below, the one place the ledger decides what it stores.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import aware
from service.members import tombstones
from service.payments import apply, events, handlers
from service.payments.models import WebhookEvent
from service.payments.settings import PaymentSettings
from service.payments.transactions import MAX_TRIES, in_transaction

log = logging.getLogger(__name__)
# The stored body of an event that names an erased person (and of one scrubbed by an erasure).
ERASED_BODY = '{"erased": true}'
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


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
                        event_id=event["id"], prices=settings.prices, erasure_key=settings.erasure_key)
    outcome = handler(ctx, events.event_object(event))
    before_finish(outcome)
    return outcome, apply.finish(ctx)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def erased_body(session: Session, event: dict[str, Any], erasure_key: bytes) -> bool:
    """Whether the event names an erased person, so its body must not be stored: any Stripe customer id in
    it is tombstoned, or any address in it (billing details, receipt email, customer email...) was erased
    after the event's object was created (tombstones.erased's rule, applied to every address and customer
    the body carries; an object created after the erasure is a new person's)."""
    customers, emails = set(), set()
    for text in _strings(event):
        if text.startswith("cus_") and len(text) <= 255:
            customers.add(text)
        elif "@" in text and erasure_key:
            emails.update(m.group(0) for m in _EMAIL.finditer(text))
    keys = tombstones.keys_for(erasure_key, None, customers) + [
        f"email:{tombstones.email_digest(erasure_key, e)}" for e in sorted(emails)]
    if not keys:
        return False
    obj = events.event_object(event) if isinstance(event.get("data"), dict) else {}
    times = [t for t in (events.safe_ts(obj.get("created")), events.safe_ts(event.get("created"))) if t]
    at = min(times) if times else None
    for key, erased_at in session.execute(select(tombstones.ErasureTombstone.key, tombstones.ErasureTombstone.erased_at)
                                          .where(tombstones.ErasureTombstone.key.in_(keys))):
        if key.startswith("customer:") or at is None or at <= aware(erased_at):  # type: ignore[operator]
            return True
    return False


def _ledger_row(session: Session, event: dict[str, Any], raw: str, now: datetime, erasure_key: bytes) -> WebhookEvent:
    """Never raises for an event with an id (see events.ledger_fields)."""
    payload = ERASED_BODY if erased_body(session, event, erasure_key) else raw
    return WebhookEvent(**events.ledger_fields(event, now), payload=payload, status="failed", attempts=0,
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
            row = _ledger_row(session, event, raw, now, settings.erasure_key)
            session.add(row)
        row.status, row.attempts, row.last_error = outcome, (row.attempts or 0) + 1, ""
        row.applied_at = now if outcome == "applied" else row.applied_at

    outcome, members = apply_event(session, event, settings, now, before_finish=record)
    return Applied(event["id"], _kind(event), outcome, members=members)


def record_failure(session: Session, event: dict[str, Any], raw: str, error: str, now: datetime,
                   erasure_key: bytes = b"") -> None:
    """In its own transaction (the failed one was rolled back): the event is `failed`, attempts + 1."""
    def work() -> None:
        row = session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event["id"]))
        if row is None:
            row = _ledger_row(session, event, raw, now, erasure_key)
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
        record_failure(session, event, raw, error, now, settings.erasure_key)
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
        if raw == ERASED_BODY:  # it names a person whose data was erased: ids and outcomes only
            yield Applied(event_id, "", "missing", error="the event's body was erased: it names a person whose "
                          "data was erased (its facts were applied when it arrived)")
            continue
        if not raw:  # blanked by retention (service/privacy/retention.py): ids and outcomes only
            yield Applied(event_id, "", "missing", error="the event's payload was purged")
            continue
        event = json.loads(raw)
        try:
            yield ingest(session, event, raw, settings, now, replay=True)
        except HandlerFailed as exc:
            yield exc.result
