"""mail: member mail outbox with retries, keyed by the fact that caused it.

Extends the paywall's `mail_outbox` (mail kept when no SMTP server was set) into the outbox every
member mail goes through (service/mail/models.py): a unique `key` per fact, kind, member, locale,
template context, HTML part, status with attempts, back-off, lease and the server's last answer.
Existing rows survive: they were never sent, so they become `failed` (kind `legacy`, key `legacy:<id>`)
and are not sent now (their sign-in links expired long ago).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LEGACY_NOTE = "Kept in the outbox before migration 0014 (no SMTP_URL then); never sent."


def upgrade():
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(length=40), nullable=False, server_default=""))
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(length=35), nullable=False, server_default="en"))
        batch.add_column(sa.Column("context", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("html", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("send_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=2000), nullable=False, server_default=""))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text(
        "UPDATE mail_outbox SET key = 'legacy:' || CAST(id AS VARCHAR(20)), kind = 'legacy', status = 'failed', "
        "last_error = :note, next_attempt_at = created_at, updated_at = created_at").bindparams(note=LEGACY_NOTE))
    with op.batch_alter_table("mail_outbox") as batch:
        batch.alter_column("key", existing_type=sa.String(length=255), nullable=False)
        batch.alter_column("next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_unique_constraint("uq_mail_outbox_key", ["key"])
        batch.create_index("ix_mail_outbox_status_next_attempt_at", ["status", "next_attempt_at"])
        batch.create_index("ix_mail_outbox_member_id", ["member_id"])
        batch.create_index("ix_mail_outbox_to_addr", ["to_addr"])


def downgrade():
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_index("ix_mail_outbox_to_addr")
        batch.drop_index("ix_mail_outbox_member_id")
        batch.drop_index("ix_mail_outbox_status_next_attempt_at")
        batch.drop_constraint("uq_mail_outbox_key", type_="unique")
        for name in ("updated_at", "sent_at", "last_error", "send_before", "lease_owner", "lease_until",
                     "next_attempt_at", "attempts", "status", "html", "context", "locale", "member_id", "kind",
                     "key"):
            batch.drop_column(name)
