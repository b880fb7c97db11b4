"""One handler per Stripe event type: read the object, store its facts, touch the members concerned.

A handler returns "applied" or "ignored" (not a membership matter: another product, a one-off payment,
a checkout this service did not start). It never calls Stripe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.mail import member_mail
from service.payments import events, one_time, pricing
from service.payments.apply import (
    Context,
    fill_attribution,
    find_subscription,
    get_customer,
    get_subscription,
    learn_email,
    observe_subscription,
    place,
    refresh_status,
    touch_invoice,
)
from service.payments.models import MembershipInvoice, StripePayment

Handler = Callable[[Context, dict[str, Any]], str]


def on_subscription(ctx: Context, obj: dict[str, Any]) -> str:
    """customer.subscription.created|updated|deleted: the subscription's state as of the event."""
    match = (ctx.plan_for(events.subscription_price_ids(obj))
             or pricing.flexible_plan(ctx.session, events.subscription_products(obj)))  # a reader-chosen amount
    if match is None:
        return "ignored"
    plan, price = match
    customer_id = events.ref(obj.get("customer"))
    if not customer_id:
        return "ignored"
    cust = get_customer(ctx, customer_id)
    customer = obj.get("customer")
    if isinstance(customer, dict):  # expanded (reconciliation lists with expand=data.customer)
        learn_email(ctx, cust, customer.get("email"))
    member = place(ctx, cust, need_member=True)
    assert member is not None
    sub = get_subscription(ctx, str(obj["id"]), cust, member, refresh=False)
    observe_subscription(ctx, sub, events.subscription_snapshot(obj, price), plan)
    created = events.ts(obj.get("created"))
    if created is not None and sub.stripe_created_at != created:
        sub.stripe_created_at = created
    fill_attribution(sub, obj.get("metadata"))
    return "applied"


def _membership_invoice(ctx: Context, obj: dict[str, Any]) -> tuple[str, str, str] | None:
    """(subscription id, plan, price id) when the invoice is for a membership subscription."""
    sub_id = events.invoice_subscription(obj)
    if not sub_id:
        return None
    match = (ctx.plan_for(events.invoice_price_ids(obj))
             or pricing.flexible_plan(ctx.session, events.invoice_products(obj)))
    if match is not None:
        return sub_id, match[0], match[1]
    known = find_subscription(ctx, sub_id)
    if known is not None:
        return sub_id, known.plan, known.price_id
    return None


def on_invoice_paid(ctx: Context, obj: dict[str, Any]) -> str:
    """A paid membership invoice; the member's earliest one (amount > 0) is the sign-up that counts."""
    found = _membership_invoice(ctx, obj)
    customer_id = events.ref(obj.get("customer"))
    if found is None or not customer_id:
        return "ignored"
    sub_id, _plan, _price = found
    cust = get_customer(ctx, customer_id)
    learn_email(ctx, cust, obj.get("customer_email"))
    member = place(ctx, cust, need_member=True)
    assert member is not None
    amount = int(obj.get("amount_paid") or 0)
    if amount <= 0:  # a trial's or fully discounted invoice is not a payment
        return "applied"
    paid_at = events.invoice_paid_at(obj, ctx.at)
    # One upsert: a new paid invoice, or an earlier payment time of a known one (the earliest wins).
    table = MembershipInvoice.__table__
    maker = pg_insert if ctx.session.connection().dialect.name == "postgresql" else sqlite_insert
    stmt = maker(table).values(invoice_id=str(obj["id"]), customer_id=customer_id, subscription_id=sub_id,
                               paid_at=paid_at, amount_paid=amount, currency=str(obj.get("currency") or "")[:3],
                               created_at=ctx.now)
    stmt = stmt.on_conflict_do_update(index_elements=["invoice_id"], set_={"paid_at": stmt.excluded.paid_at},
                                      where=stmt.excluded.paid_at < table.c.paid_at)
    with ctx.session.no_autoflush:  # (no foreign key: pending changes can wait for the next flush)
        ctx.session.execute(stmt)
    # Derive reads the earliest paid invoice (the sign-up) and each subscription's latest (a renewal
    # after a refunded payment makes the membership live again; one already reversed ends it).
    ctx.touched.add(member.id)
    sub = find_subscription(ctx, sub_id)
    if sub is not None:  # a payment newer than the last snapshot may change its status
        refresh_status(ctx, sub)
    return "applied"


def on_invoice_payment_failed(ctx: Context, obj: dict[str, Any]) -> str:
    """A failed renewal makes the subscription past_due unless a newer snapshot says otherwise."""
    found = _membership_invoice(ctx, obj)
    customer_id = events.ref(obj.get("customer"))
    if found is None or not customer_id:
        return "ignored"
    if obj.get("billing_reason") == "subscription_create":
        return "applied"  # the first payment failed: the subscription stays incomplete, nobody joined
    sub_id, plan, price = found
    cust = get_customer(ctx, customer_id)
    learn_email(ctx, cust, obj.get("customer_email"))
    member = place(ctx, cust, need_member=True)
    assert member is not None
    sub = get_subscription(ctx, sub_id, cust, member)
    if not sub.plan:
        sub.plan, sub.price_id = plan, price
    if sub.payment_failed_at is None or ctx.at > sub.payment_failed_at:
        sub.payment_failed_at = ctx.at
    refresh_status(ctx, sub)
    member_mail.payment_failed(ctx.session, member, invoice_id=str(obj.get("id") or ""), subscription_status=sub.status,
                               failed_at=sub.payment_failed_at, now=ctx.now)  # once per invoice (the outbox)
    return "applied"


def _payment(ctx: Context, key: str) -> StripePayment:
    row = ctx.session.scalar(select(StripePayment).where(StripePayment.payment_key == key))
    if row is None:
        row = StripePayment(payment_key=key, invoice_id="", reversed_at=None, reversal="",
                            created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(row)  # inserted by the next flush, with what the handler sets meanwhile
    return row


def on_invoice_payment_paid(ctx: Context, obj: dict[str, Any]) -> str:
    """Links an invoice to the payment intent that paid it (charges name only their payment intent)."""
    key = events.invoice_payment_key(obj)
    invoice_id = events.ref(obj.get("invoice"))
    if not key or not invoice_id:
        return "ignored"
    row = _payment(ctx, key)
    if not row.invoice_id:
        row.invoice_id, row.updated_at = invoice_id, ctx.now
    if row.reversed_at is not None:  # a payment not reversed adds nothing to what derive reads
        touch_invoice(ctx, row.invoice_id)
    return "applied"


def _reverse(ctx: Context, key: str, reason: str) -> None:
    row = _payment(ctx, key)
    if row.reversed_at is None or ctx.at < row.reversed_at:
        row.reversed_at, row.reversal, row.updated_at = ctx.at, reason, ctx.now
    touch_invoice(ctx, row.invoice_id)
    one_time.payment_reversed(ctx, key, row.reversed_at)  # contributions, gifts: see one_time.py


def on_charge_refunded(ctx: Context, obj: dict[str, Any]) -> str:
    """A full refund reverses the payment (partial refunds change nothing)."""
    if not events.charge_fully_refunded(obj):
        return "applied"
    _reverse(ctx, events.charge_payment_key(obj), "refunded")
    return "applied"


def on_dispute_closed(ctx: Context, obj: dict[str, Any]) -> str:
    """A dispute closed as lost reverses the payment."""
    if obj.get("status") != "lost":
        return "applied"
    key = events.dispute_payment_key(obj)
    if not key:
        return "ignored"
    _reverse(ctx, key, "dispute_lost")
    return "applied"


def on_customer(ctx: Context, obj: dict[str, Any]) -> str:
    """customer.created|updated: the email (a change may merge the member with another)."""
    customer_id = events.ref(obj.get("id"))
    if not customer_id:
        return "ignored"
    cust = get_customer(ctx, customer_id)
    learn_email(ctx, cust, obj.get("email"))
    place(ctx, cust, need_member=False)
    return "applied"


def on_checkout_completed(ctx: Context, obj: dict[str, Any]) -> str:
    """A membership checkout this service started (our plan in its metadata): member by email and
    customer, and attribution for the subscription it created."""
    if obj.get("mode") == "payment":  # one-time payments by kind: contributions, gifts (one_time.py)
        return one_time.on_session_completed(ctx, obj)
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    plan = str(metadata.get("plan") or "")
    if obj.get("mode") != "subscription" or plan not in ctx.prices.values():
        return "ignored"
    customer_id = events.ref(obj.get("customer"))
    if not customer_id:
        return "ignored"
    cust = get_customer(ctx, customer_id)
    learn_email(ctx, cust, events.session_email(obj))
    member = place(ctx, cust, need_member=True)
    assert member is not None
    sub_id = events.ref(obj.get("subscription"))
    if sub_id:
        sub = get_subscription(ctx, sub_id, cust, member)
        if not sub.stripe_created_at:
            sub.stripe_created_at = events.ts(obj.get("created"))
        md = dict(metadata)
        if not md.get("reader_id") and obj.get("client_reference_id"):
            md["reader_id"] = obj["client_reference_id"]
        fill_attribution(sub, md, plan_hint=plan)
        if not sub.price_id:
            sub.price_id = next((p for p, name in ctx.prices.items() if name == plan), "")
    return "applied"


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "customer.created": on_customer,
    "customer.updated": on_customer,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "invoice_payment.paid": on_invoice_payment_paid,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.closed": on_dispute_closed,
    "payment_intent.succeeded": one_time.on_intent_succeeded,
}
assert set(HANDLERS) == set(events.HANDLED_TYPES)
