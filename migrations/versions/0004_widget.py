"""widget: per-day conversion counters of the embeddable widget (widget_daily).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "widget_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("type IN ('impression', 'click')", name=op.f("ck_widget_daily_type")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_widget_daily_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_daily")),
        sa.UniqueConstraint("campaign_id", "day", "type", "locale",
                            name=op.f("uq_widget_daily_campaign_id_day_type_locale")),
    )


def downgrade():
    op.drop_table("widget_daily")
