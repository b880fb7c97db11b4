"""members: provisional members and the customer of record (trust).

- `email_verified_at`: when the member first signed in with a mailed link (proof they read the address).
- `created_by_customer`: the Stripe customer whose checkout created the member (claim or webhooks);
  NULL for members created otherwise (staff, seed, imports) and for every member that existed before
  this revision: their origin is unknown, so a checkout claim never signs them in (it mails a link).
- `provisional_until`: a member created by a checkout claim before any membership webhook has access
  until then (at most an hour) unless a membership subscription arrives.

Backfill: `email_verified_at` from the earliest used sign-in link still stored for the address (the
only evidence kept); the other two stay NULL (the safe reading of "unknown").

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members") as b:
        b.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("created_by_customer", sa.String(255), nullable=True))
        b.add_column(sa.Column("provisional_until", sa.DateTime(timezone=True), nullable=True))
    members = sa.table("members", sa.column("email", sa.String), sa.column("email_verified_at", sa.DateTime))
    links = sa.table("magic_links", sa.column("email", sa.String), sa.column("used_at", sa.DateTime))
    first_use = (sa.select(sa.func.min(links.c.used_at))
                 .where(links.c.email == members.c.email, links.c.used_at.is_not(None)).scalar_subquery())
    op.execute(members.update().values(email_verified_at=first_use)
               .where(sa.exists().where(links.c.email == members.c.email, links.c.used_at.is_not(None))))


def downgrade():
    with op.batch_alter_table("members") as b:
        b.drop_column("provisional_until")
        b.drop_column("created_by_customer")
        b.drop_column("email_verified_at")
