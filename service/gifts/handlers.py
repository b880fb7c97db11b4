"""Gift facts from Stripe events, plugged into payments' one-time kinds (payments/one_time.py): a paid gift
checkout is recorded (and mailed when due), a full refund or a lost dispute of its payment marks it
refunded. Each runs in the webhook's transaction, like every handler."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.gifts import delivery, purchases, rules

if TYPE_CHECKING:
    from service.payments.apply import Context


def _settings() -> Any:
    """The paywall's settings (links, mail), when the event is applied inside the app (webhook, replay,
    reconciliation); None elsewhere: the gift is then mailed by the next `flask gifts deliver`."""
    from flask import current_app, has_app_context

    ctx = current_app.extensions.get("paywall") if has_app_context() else None
    return getattr(ctx, "settings", None)


def on_session_completed(ctx: Context, obj: dict[str, Any]) -> str:
    """A paid gift checkout (payments/one_time.py SESSION_KINDS["gift"]): the gift, once per session, and
    its mails (the buyer's confirmation; the recipient's when the delivery day is today or past)."""
    purchase = rules.purchase_of(obj, ctx.at)
    if purchase is None:
        return "ignored"  # not paid, or without a recipient or months: nothing to give
    gift = purchases.record(ctx.session, purchase, at=ctx.at, now=ctx.now)
    settings = _settings()
    if gift is not None and gift.refunded_at is None and settings is not None:
        delivery.on_purchase(ctx.session, settings, gift, ctx.now)
    return "applied"


def payment_reversed(ctx: Context, payment_key: str, reversed_at: datetime | None) -> None:
    """A full refund or lost dispute of a payment (payments/one_time.py REVERSAL_HOOKS): the gift it paid
    for is refunded. A reversal that arrives before the gift is found by `purchases.record`."""
    gift = purchases.by_payment(ctx.session, payment_key)
    if gift is not None:
        purchases.mark_refunded(ctx.session, gift, at=reversed_at or ctx.at, now=ctx.now)
