"""gifts: gift memberships bought, delivered and redeemed.

- `gifts`: one row per paid gift Checkout Session (unique `checkout_session_id`): buyer, recipient,
  message, months, delivery date, amount and currency, the purchase campaign; `code_hash` (SHA-256 of the
  code mailed to the recipient: the code itself is never stored), delivery, redemption and refund facts.
- `members`: the gift facts the standing and the count read: `gift_redeemed_at` (first redemption of a
  gift still standing: the joining fact of a member who never paid), `gift_until` (when the gift
  membership ends), `gift_ended_at` (set once `gift_until` has passed, by `flask gifts deliver`).
  Existing members get NULLs (no gift).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("members") as b:
        b.add_column(sa.Column("gift_redeemed_at", TS, nullable=True))
        b.add_column(sa.Column("gift_until", TS, nullable=True))
        b.add_column(sa.Column("gift_ended_at", TS, nullable=True))
        b.create_index("ix_members_gift_redeemed_at", ["gift_redeemed_at"])
    op.create_table(
        "gifts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checkout_session_id", sa.String(255), nullable=False),
        sa.Column("payment_intent", sa.String(255), nullable=False, server_default=""),
        sa.Column("buyer_customer", sa.String(255), nullable=False, server_default=""),
        sa.Column("buyer_email", sa.String(320), nullable=False, server_default=""),
        sa.Column("buyer_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("recipient_email", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("months", sa.Integer, nullable=False),
        sa.Column("deliver_on", sa.Date, nullable=False),
        sa.Column("locale", sa.String(35), nullable=False, server_default=""),
        sa.Column("amount", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("campaign", sa.String(64), nullable=False, server_default=""),
        sa.Column("purchased_at", TS, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("deliveries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("redeemed_at", TS, nullable=True),
        sa.Column("member_id", sa.Integer, nullable=True),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("refunded_at", TS, nullable=True),
        sa.Column("refund_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gifts"),
        sa.UniqueConstraint("checkout_session_id", name="uq_gifts_checkout_session_id"),
        sa.UniqueConstraint("code_hash", name="uq_gifts_code_hash"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name="fk_gifts_member_id_members"),
    )
    op.create_index("ix_gifts_payment_intent", "gifts", ["payment_intent"])
    op.create_index("ix_gifts_member_id", "gifts", ["member_id"])
    op.create_index("ix_gifts_deliver_on", "gifts", ["deliver_on"])


def downgrade():
    op.drop_index("ix_gifts_deliver_on", table_name="gifts")
    op.drop_index("ix_gifts_member_id", table_name="gifts")
    op.drop_index("ix_gifts_payment_intent", table_name="gifts")
    op.drop_table("gifts")
    with op.batch_alter_table("members") as b:
        b.drop_index("ix_members_gift_redeemed_at")
        b.drop_column("gift_ended_at")
        b.drop_column("gift_until")
        b.drop_column("gift_redeemed_at")
