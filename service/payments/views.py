"""HTTP views of payments: Checkout and the Stripe webhook endpoint (thin: checkout, signatures and ledger do
the work)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from service import clock
from service.api import Blueprint
from service.errors import DomainError
from service.extensions import db, limiter
from service.mail import send_after_commit
from service.ops.metrics import record_webhook
from service.payments import checkout, ledger, signatures
from service.payments.schemas import CheckoutRequestSchema, CheckoutSessionSchema, WebhookAckSchema
from service.payments.settings import PaymentSettings

blp = Blueprint("payments", __name__, url_prefix="/v1", description="Stripe Checkout and webhooks")


class BadSignature(DomainError):
    status = 400
    type = "invalid-webhook"
    title = "Invalid webhook"


class HandlerError(DomainError):
    status = 500
    type = "webhook-handler-failed"
    title = "Webhook handler failed"


def _settings() -> PaymentSettings:
    return current_app.extensions["payments_settings"]


@blp.route("/checkout/sessions", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("RATELIMIT_PUBLIC_WRITE") or "60/minute")
@blp.arguments(CheckoutRequestSchema)
@blp.response(201, CheckoutSessionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(410, response="GONE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.alt_response(502, response="BAD_GATEWAY")
def create_checkout_session(args: dict[str, Any]) -> dict[str, str]:
    """Start a Stripe Checkout to join: subscription mode, with attribution metadata on the session and
    on the subscription. `success_url` and `cancel_url` must be on the site's allowed origins."""
    result = checkout.start_checkout(
        db.session, current_app.extensions["stripe"], _settings(), now=clock.now(),
        referrer=request.referrer, **args)
    db.session.commit()
    return result


@blp.route("/webhooks/stripe", methods=["POST"])
@limiter.exempt
@blp.response(200, WebhookAckSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(500, response="INTERNAL_SERVER_ERROR")
def stripe_webhook() -> dict[str, Any]:
    """Stripe's webhook endpoint: verifies `Stripe-Signature` over the raw body, stores the event in the
    ledger and applies it exactly once (duplicates answer 200 and change nothing). A signed event that
    cannot be applied (a handler error, or a malformed event) is stored as `failed` with its error and
    answered 500, so Stripe retries and staff can replay it; a signed body with no event id is a 400."""
    raw = request.get_data()  # raw bytes, as signed (MAX_CONTENT_LENGTH caps it: 413 above)
    try:
        event = signatures.verify(raw, request.headers.get("Stripe-Signature"), _settings())
    except signatures.SignatureError as exc:
        record_webhook("", "invalid_body" if isinstance(exc, signatures.UnusableBody) else "invalid_signature")
        raise BadSignature(str(exc)) from exc
    now = clock.now()
    try:
        result = ledger.ingest(db.session, event, raw.decode("utf-8"), _settings(), now)
    except ledger.HandlerFailed as exc:
        record_webhook(exc.result.type, "error")
        raise HandlerError(f"Applying event {exc.result.event_id} failed; it is recorded and will be "
                           "applied when Stripe retries.") from exc
    record_webhook(result.type, result.outcome)
    send_after_commit()  # the mail this event caused (committed with it by ingest), bounded
    return {"received": True, "event": result.event_id, "outcome": result.outcome}
