"""campaigns: milestones and stretch goals.

- `campaign_milestones`: a count staff want to celebrate (unique per campaign), its headline per locale and
  how many days the headline shows after the count crosses it.
- `campaign_crossings`: the first time the count reached a milestone or a goal, one row per (campaign, count):
  written in the transaction that moved the counter, never again when the count dips and comes back.
- `campaigns.original_goal`: the goal before a stretch goal replaced it (NULL: no stretch goal).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("original_goal", sa.Integer(), nullable=True))
    op.create_table(
        "campaign_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("headlines", sa.JSON(), nullable=False),
        sa.Column("show_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("at > 0", name=op.f("ck_campaign_milestones_at_positive")),
        sa.CheckConstraint("show_days >= 0", name=op.f("ck_campaign_milestones_show_days")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_milestones_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_milestones")),
        sa.UniqueConstraint("campaign_id", "at", name=op.f("uq_campaign_milestones_campaign_id_at")),
    )
    op.create_table(
        "campaign_crossings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('milestone', 'goal')", name=op.f("ck_campaign_crossings_kind")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_crossings_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_crossings")),
        sa.UniqueConstraint("campaign_id", "at", name=op.f("uq_campaign_crossings_campaign_id_at")),
    )


def downgrade():
    op.drop_table("campaign_crossings")
    op.drop_table("campaign_milestones")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("original_goal")
