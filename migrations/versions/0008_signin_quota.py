"""paywall: sign-in quota kept in the database (trust).

The quota (MAGIC_LINK_RATE_PER_EMAIL) counts an address's newest magic links, so they get an index
on (email, created_at). No new table: the links are the quota's log.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_magic_links_email_created_at", "magic_links", ["email", "created_at"])


def downgrade():
    op.drop_index("ix_magic_links_email_created_at", table_name="magic_links")
