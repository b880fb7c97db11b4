"""Staff actions on an unredeemed gift: refund it through Stripe (no Flask). Re-sending is delivery.resend."""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound, UpstreamError
from service.gifts import purchases
from service.gifts.models import Gift

log = logging.getLogger(__name__)


def get(session: Session, gift_id: int) -> Gift:
    gift = session.get(Gift, gift_id)
    if gift is None:
        raise NotFound(f"No gift {gift_id}.")
    return gift


def refund(session: Session, client: stripe.StripeClient, gift: Gift, now: datetime) -> Gift:
    """Refund an unredeemed gift in full (Stripe Refunds API on its payment intent, idempotent per gift) and
    mark it refunded: its link stops working. The `charge.refunded` webhook that follows changes nothing more."""
    if gift.refunded_at is not None:
        raise Conflict(f"Gift {gift.id} is already refunded.")
    if gift.redeemed_at is not None:
        raise Conflict(f"Gift {gift.id} was redeemed on {gift.redeemed_at:%Y-%m-%d}: it cannot be refunded here.")
    if not gift.payment_intent:
        raise Conflict(f"Gift {gift.id} has no payment intent to refund; refund it in the Stripe dashboard.")
    try:
        made = client.v1.refunds.create(params={"payment_intent": gift.payment_intent,
                                                "metadata": {"kind": "gift", "gift_id": str(gift.id)}},
                                        options={"idempotency_key": f"gift-refund-{gift.id}"})
    except stripe.StripeError as exc:
        request_id = getattr(exc, "request_id", None) or "unknown"
        log.warning("gift %s refund failed: %s (request %s)", gift.id, type(exc).__name__, request_id)
        message = getattr(exc, "user_message", None) or "Stripe refused the refund"
        raise UpstreamError(f"Stripe could not refund gift {gift.id}: {message} (Stripe request id: {request_id}).",
                            stripe_request_id=request_id) from exc
    purchases.mark_refunded(session, gift, at=now, now=now, refund_id=str(made.id or ""))
    return gift


def summary(session: Session, campaign: str | None = None) -> dict[str, int]:
    """Gifts sold, redeemed, waiting (paid, not redeemed nor refunded) and refunded; bought in `campaign` when
    one is named."""
    query = select(
        func.count(Gift.id), func.count(Gift.redeemed_at), func.count(Gift.refunded_at),
        func.count(Gift.id).filter(Gift.redeemed_at.is_(None), Gift.refunded_at.is_(None)),
    )
    if campaign is not None:
        query = query.where(Gift.campaign == campaign)
    rows = dict(session.execute(query).one()._asdict().items())
    sold, redeemed, refunded, pending = rows.values()
    return {"sold": int(sold), "redeemed": int(redeemed), "pending": int(pending), "refunded": int(refunded)}


def recent(session: Session, limit: int = 200) -> list[Gift]:
    return list(session.scalars(select(Gift).order_by(Gift.id.desc()).limit(limit)))
