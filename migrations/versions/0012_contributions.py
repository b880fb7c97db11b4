"""payments: one-time contributions, flexible amounts and currencies.

- `contributions`: one row per contribution's payment intent (unique), who gave (`person`), amount and
  currency, when it was paid and whether it was reversed.
- `campaigns.contributors_counted`: people who gave once in the campaign's window, kept on write.
- `plan_products`: (product, interval) -> plan, learnt when a flexible plan's Checkout starts.
- `membership_invoices.paid_at` indexed: revenue per currency over a campaign's window.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _ts(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("contributors_counted", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_intent", sa.String(255), nullable=False),
        sa.Column("checkout_session", sa.String(255), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("person", sa.String(330), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        _ts("paid_at"),
        _ts("reversed_at", True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
        sa.UniqueConstraint("payment_intent", name=op.f("uq_contributions_payment_intent")),
    )
    with op.batch_alter_table("contributions") as b:
        b.create_index(b.f("ix_contributions_checkout_session"), ["checkout_session"])
        b.create_index(b.f("ix_contributions_person"), ["person"])
        b.create_index(b.f("ix_contributions_paid_at"), ["paid_at"])
    op.create_table(
        "plan_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("interval_count", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("price_id", sa.String(255), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_products")),
        sa.UniqueConstraint("product_id", "interval", "interval_count",
                            name=op.f("uq_plan_products_product_id_interval_interval_count")),
    )
    with op.batch_alter_table("membership_invoices") as b:
        b.create_index(b.f("ix_membership_invoices_paid_at"), ["paid_at"])


def downgrade():
    with op.batch_alter_table("membership_invoices") as b:
        b.drop_index(b.f("ix_membership_invoices_paid_at"))
    op.drop_table("plan_products")
    op.drop_table("contributions")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("contributors_counted")
