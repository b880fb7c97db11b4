"""payments: webhook ledger, Stripe customers/invoices/payments, status history, checkout starts,
reconciliation runs; Stripe columns on subscriptions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("api_version", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        _ts("created"),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        _ts("received_at"),
        _ts("applied_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("stripe_event_id", name=op.f("uq_webhook_events_stripe_event_id")),
    )
    with op.batch_alter_table("webhook_events") as b:
        b.create_index(b.f("ix_webhook_events_type"), ["type"])
        b.create_index(b.f("ix_webhook_events_object_id"), ["object_id"])
        b.create_index(b.f("ix_webhook_events_created"), ["created"])
        b.create_index(b.f("ix_webhook_events_status"), ["status"])

    op.create_table(
        "member_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=False),
        sa.Column("to_status", sa.String(32), nullable=False),
        _ts("at"),
        sa.Column("stripe_event_id", sa.String(255), nullable=False),
        _ts("recorded_at"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE",
                                name=op.f("fk_member_status_changes_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_status_changes")),
    )
    with op.batch_alter_table("member_status_changes") as b:
        b.create_index(b.f("ix_member_status_changes_member_id"), ["member_id"])
        b.create_index(b.f("ix_member_status_changes_at"), ["at"])

    op.create_table(
        "checkout_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_checkout_starts_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_starts")),
        sa.UniqueConstraint("campaign_id", "day", "plan", "locale", "source",
                            name=op.f("uq_checkout_starts_campaign_id_day_plan_locale_source")),
    )

    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("examined", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs") as b:
        b.create_index(b.f("ix_reconciliation_runs_started_at"), ["started_at"])

    op.create_table(
        "stripe_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        _ts("email_at", True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL",
                                name=op.f("fk_stripe_customers_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_stripe_customers_customer_id")),
    )
    with op.batch_alter_table("stripe_customers") as b:
        b.create_index(b.f("ix_stripe_customers_member_id"), ["member_id"])
        b.create_index(b.f("ix_stripe_customers_email"), ["email"])

    op.create_table(
        "membership_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("subscription_id", sa.String(255), nullable=False),
        _ts("paid_at"),
        sa.Column("amount_paid", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_invoices")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_membership_invoices_invoice_id")),
    )
    with op.batch_alter_table("membership_invoices") as b:
        b.create_index(b.f("ix_membership_invoices_customer_id"), ["customer_id"])
        b.create_index(b.f("ix_membership_invoices_subscription_id"), ["subscription_id"])

    op.create_table(
        "stripe_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_key", sa.String(255), nullable=False),
        sa.Column("invoice_id", sa.String(255), nullable=False),
        _ts("reversed_at", True),
        sa.Column("reversal", sa.String(32), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_payments")),
        sa.UniqueConstraint("payment_key", name=op.f("uq_stripe_payments_payment_key")),
    )
    with op.batch_alter_table("stripe_payments") as b:
        b.create_index(b.f("ix_stripe_payments_invoice_id"), ["invoice_id"])

    with op.batch_alter_table("subscriptions") as b:
        b.add_column(sa.Column("customer_id", sa.String(255), nullable=False, server_default=""))
        b.add_column(sa.Column("stripe_status", sa.String(32), nullable=False, server_default=""))
        b.add_column(_ts("last_event_at", True))
        b.add_column(sa.Column("last_event_id", sa.String(255), nullable=False, server_default=""))
        b.add_column(_ts("payment_failed_at", True))
        b.add_column(_ts("stripe_created_at", True))
        b.add_column(sa.Column("campaign", sa.String(64), nullable=False, server_default=""))
        b.add_column(sa.Column("locale", sa.String(35), nullable=False, server_default=""))
        b.add_column(sa.Column("source", sa.String(200), nullable=False, server_default=""))
        b.add_column(sa.Column("reader_id", sa.String(255), nullable=False, server_default=""))
        b.create_index(b.f("ix_subscriptions_customer_id"), ["customer_id"])


def downgrade():
    with op.batch_alter_table("subscriptions") as b:
        b.drop_index(b.f("ix_subscriptions_customer_id"))
        for name in ("reader_id", "source", "locale", "campaign", "stripe_created_at", "payment_failed_at",
                     "last_event_id", "last_event_at", "stripe_status", "customer_id"):
            b.drop_column(name)
    for table in ("stripe_payments", "membership_invoices", "stripe_customers", "reconciliation_runs",
                  "checkout_starts", "member_status_changes", "webhook_events"):
        op.drop_table(table)
