"""campaigns: copy variants and their attribution (experiments).

banner_variants (another text for a stage and locale, with a weight), experiment_daily (impressions,
clicks and checkouts per arm and day) and subscriptions.variant_id (the arm of the checkout that made it).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "banner_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("cta_label", sa.Text(), nullable=False),
        sa.Column("cta_url", sa.String(length=2000), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("weight BETWEEN 1 AND 99", name=op.f("ck_banner_variants_weight")),
        sa.CheckConstraint("status IN ('running', 'stopped', 'promoted')", name=op.f("ck_banner_variants_status")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_banner_variants_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banner_variants")),
        sa.UniqueConstraint("campaign_id", "name", name=op.f("uq_banner_variants_campaign_id_name")),
    )
    op.create_index(op.f("ix_banner_variants_campaign_id"), "banner_variants", ["campaign_id"])
    op.create_table(
        "experiment_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("type IN ('impression', 'click', 'checkout')", name=op.f("ck_experiment_daily_type")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_experiment_daily_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_daily")),
        sa.UniqueConstraint("campaign_id", "variant_id", "day", "type",
                            name=op.f("uq_experiment_daily_campaign_id_variant_id_day_type")),
    )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("variant_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("variant_id")
    op.drop_table("experiment_daily")
    op.drop_index(op.f("ix_banner_variants_campaign_id"), table_name="banner_variants")
    op.drop_table("banner_variants")
