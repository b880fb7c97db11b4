"""Payments tables: the webhook ledger, Stripe facts (customers, paid invoices, payments), checkout starts
and reconciliation runs (the membership status history is members': service/members/models.py).

The staff dashboard reads `webhook_events`, `checkout_starts` and `reconciliation_runs`; their names and
columns are stable.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

EVENT_STATUSES = ("applied", "ignored", "failed")


class WebhookEvent(Base):
    """One verified Stripe event, by its id (unique): the ledger that makes delivery exactly-once.

    `status` is `applied`, `ignored` (not ours: other products, other mode, unhandled type) or `failed`
    (a handler raised; `last_error` says why and Stripe's retry, or `webhooks replay`, applies it).
    `attempts` counts application attempts. `payload` is the raw verified body (never logged).
    """

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    api_version: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    created: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]


class CheckoutStart(Base):
    """Checkouts started per campaign, day (UTC), plan, locale and source: the funnel's first step."""

    __tablename__ = "checkout_starts"
    __table_args__ = (UniqueConstraint("campaign_id", "day", "plan", "locale", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(35))
    source: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReconciliationRun(Base):
    """One `stripe reconcile` run: how many subscriptions it examined and changed; `summary` is JSON
    (`{"changes": [{"subscription", "member_id", "fields": {name: [before, after]}}], "errors": [...]}`)."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[date | None] = mapped_column(Date)
    examined: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")


class StripeCustomer(Base):
    """A Stripe customer and the member it belongs to (a person may have several customers).

    `email` is normalised ('' while unknown); `email_at` is the Stripe time of the newest fact about it,
    so an older event never overwrites a newer email. `member_id` is empty for customers that never
    bought a membership.
    """

    __tablename__ = "stripe_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(320), default="", index=True)
    email_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MembershipInvoice(Base):
    """A paid invoice of a membership subscription (amount > 0): the earliest is the sign-up that counts."""

    __tablename__ = "membership_invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    subscription_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    paid_at: Mapped[datetime] = mapped_column(index=True)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    created_at: Mapped[datetime]


class StripePayment(Base):
    """A payment (payment intent, or charge when no intent is named): which invoice it paid, and
    whether it was reversed (fully refunded or a dispute lost). Facts only accumulate: the earliest
    reversal time wins, whatever the order of the events."""

    __tablename__ = "stripe_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_key: Mapped[str] = mapped_column(String(255), unique=True)
    invoice_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    reversed_at: Mapped[datetime | None]
    reversal: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Contribution(Base):
    """A one-time contribution (a payment-mode Checkout this service started with metadata
    `kind: contribution`), one row per payment intent whichever events told us about it.

    `person` is who gave (`email:<normalised>`, else `customer:<id>`, else `payment:<intent>`): people, not
    payments, are counted. `paid_at` is the earliest Stripe time seen for the payment; `reversed_at` the
    earliest full refund or lost dispute (from stripe_payments). A contribution never makes a member.
    """

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_intent: Mapped[str] = mapped_column(String(255), unique=True)
    checkout_session: Mapped[str] = mapped_column(String(255), default="", index=True)
    campaign: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    person: Mapped[str] = mapped_column(String(330), index=True)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    locale: Mapped[str] = mapped_column(String(35), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    paid_at: Mapped[datetime] = mapped_column(index=True)
    reversed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PlanProduct(Base):
    """The plan of a Stripe product and billing interval, learnt when a flexible plan's Checkout was
    started: a reader-chosen amount is an inline price with a new id, so webhooks know its plan by the
    product and interval of the plan's configured price."""

    __tablename__ = "plan_products"
    __table_args__ = (UniqueConstraint("product_id", "interval", "interval_count"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(String(255))
    interval: Mapped[str] = mapped_column(String(16))
    interval_count: Mapped[int] = mapped_column(Integer, default=1)
    plan: Mapped[str] = mapped_column(String(64))
    price_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
