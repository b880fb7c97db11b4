"""One-time payments (payment-mode Checkouts this service started), handled by the `kind` in their metadata.

`checkout.py` starts them with metadata `kind` (`contribution`, `gift`), `campaign` and the kind's own
keys, on the Checkout Session and (payment_intent_data) on its payment intent. The tables below say which
module records a kind: from a paid `checkout.session.completed` (SESSION_KINDS), from
`payment_intent.succeeded` (INTENT_KINDS), and what a full refund or lost dispute of the payment reverses
(REVERSAL_HOOKS, called with the payment intent and the reversal time). Reconciliation feeds the sessions
it lists to the same SESSION_KINDS handlers. A kind not in a table is ignored. Adding a kind is one line
per table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.gifts import handlers as gift_handlers
from service.payments import contributions
from service.payments.apply import Context

KindHandler = Callable[[Context, dict[str, Any]], str]

SESSION_KINDS: dict[str, KindHandler] = {
    contributions.KIND: contributions.on_session_completed,
    "gift": gift_handlers.on_session_completed,  # service/gifts
}
INTENT_KINDS: dict[str, KindHandler] = {
    contributions.KIND: contributions.on_intent_succeeded,
}
REVERSAL_HOOKS: list[Callable[[Context, str, datetime | None], None]] = [
    contributions.payment_reversed,
    gift_handlers.payment_reversed,  # service/gifts
]
# kind -> whether a paid session of that kind is recorded already (reconciliation reports what it records);
# a kind without one is applied again by reconciliation (its handler is idempotent) and not reported.
RECORDED: dict[str, Callable[[Session, dict[str, Any]], bool]] = {
    contributions.KIND: contributions.recorded,
}


def kind_of(obj: dict[str, Any]) -> str:
    md = obj.get("metadata")
    return str(md.get("kind") or "") if isinstance(md, dict) else ""


def paid_session(obj: dict[str, Any]) -> bool:
    """A payment-mode Checkout Session whose payment succeeded (not an asynchronous one still pending)."""
    return obj.get("mode") == "payment" and obj.get("payment_status") == "paid"


def on_session_completed(ctx: Context, obj: dict[str, Any]) -> str:
    """checkout.session.completed in payment mode: the kind's handler, once it is paid."""
    handler = SESSION_KINDS.get(kind_of(obj))
    if handler is None or not paid_session(obj):
        return "ignored"
    return handler(ctx, obj)


def on_intent_succeeded(ctx: Context, obj: dict[str, Any]) -> str:
    """payment_intent.succeeded: the kind's handler (subscription payments carry no kind: ignored)."""
    handler = INTENT_KINDS.get(kind_of(obj))
    return "ignored" if handler is None else handler(ctx, obj)


def payment_reversed(ctx: Context, payment_key: str, reversed_at: datetime | None) -> None:
    for hook in REVERSAL_HOOKS:
        hook(ctx, payment_key, reversed_at)
