"""campaigns: archiving and the paywall's chosen campaign (staff run a drive).

- `campaigns.archived_at`: an archived campaign answers 410 on its public endpoints and is never the
  paywall's campaign; unarchiving clears it.
- `paywall_campaigns`: the campaign the paywall's prompt shows, per site section (`section` = '' for
  every section), chosen by an admin on the dashboard (PAYWALL_CAMPAIGN stays the default).
- `staff_audit_log.campaign_id` is set to NULL, not cascaded, when a campaign is deleted: the audit log
  keeps what was done to it (and its deletion).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

AUDIT_FK = "fk_staff_audit_log_campaign_id_campaigns"


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "paywall_campaigns",
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_paywall_campaigns_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("section", name=op.f("pk_paywall_campaigns")),
    )
    with op.batch_alter_table("staff_audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(AUDIT_FK, type_="foreignkey")
        batch_op.create_foreign_key(AUDIT_FK, "campaigns", ["campaign_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("staff_audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(AUDIT_FK, type_="foreignkey")
        batch_op.create_foreign_key(AUDIT_FK, "campaigns", ["campaign_id"], ["id"], ondelete="CASCADE")
    op.drop_table("paywall_campaigns")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
