"""paywall: meter reads, magic links, mail outbox, section defaults.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "meter_reads",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("reader_id", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_reads")),
        sa.UniqueConstraint("reader_id", "article_id", name=op.f("uq_meter_reads_reader_id_article_id")),
    )
    op.create_index("ix_meter_reads_reader_id_read_at", "meter_reads", ["reader_id", "read_at"])
    op.create_index(op.f("ix_meter_reads_read_at"), "meter_reads", ["read_at"])

    op.create_table(
        "magic_links",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_magic_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_magic_links_token_hash")),
    )
    op.create_index(op.f("ix_magic_links_expires_at"), "magic_links", ["expires_at"])

    op.create_table(
        "mail_outbox",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )

    op.create_table(
        "section_defaults",
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("section", name=op.f("pk_section_defaults")),
    )


def downgrade():
    op.drop_table("section_defaults")
    op.drop_table("mail_outbox")
    op.drop_index(op.f("ix_magic_links_expires_at"), table_name="magic_links")
    op.drop_table("magic_links")
    op.drop_index(op.f("ix_meter_reads_read_at"), table_name="meter_reads")
    op.drop_index("ix_meter_reads_reader_id_read_at", table_name="meter_reads")
    op.drop_table("meter_reads")
