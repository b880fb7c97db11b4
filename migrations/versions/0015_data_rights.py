"""members: erasure tombstones and retention (data rights).

- `erasure_tombstones`: the keys of an erased person (`customer:<Stripe customer id>`, `email:<HMAC of the
  address>`) and the member row that keeps their counting facts (service/members/tombstones.py).
- `erasure_requests`: mailed single-use links that confirm a member's erasure (SHA-256 of the token).
Retention needs no schema change: it deletes rows or blanks columns of existing tables.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL",
                                name=op.f("fk_erasure_tombstones_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstones")),
        sa.UniqueConstraint("key", name=op.f("uq_erasure_tombstones_key")),
    )
    op.create_index(op.f("ix_erasure_tombstones_member_id"), "erasure_tombstones", ["member_id"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE",
                                name=op.f("fk_erasure_requests_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_erasure_requests_token_hash")),
    )
    op.create_index(op.f("ix_erasure_requests_member_id"), "erasure_requests", ["member_id"])


def downgrade():
    op.drop_index(op.f("ix_erasure_requests_member_id"), table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_index(op.f("ix_erasure_tombstones_member_id"), table_name="erasure_tombstones")
    op.drop_table("erasure_tombstones")
