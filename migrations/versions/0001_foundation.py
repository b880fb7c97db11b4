"""Foundation: campaigns, members, subscriptions, count adjustments, banner copy, daily roll-ups.

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 07:48:21.700329

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('default_locale', sa.String(length=35), nullable=False),
    sa.Column('count_mode', sa.String(length=8), nullable=False),
    sa.Column('join_url', sa.String(length=2000), nullable=False),
    sa.Column('members_counted', sa.Integer(), nullable=False),
    sa.Column('adjustments_total', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("count_mode IN ('net', 'gross')", name=op.f('ck_campaigns_count_mode')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_campaigns_window_order')),
    sa.CheckConstraint('goal > 0', name=op.f('ck_campaigns_goal_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaigns_slug'))
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('plan', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('first_paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_payment_reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('email', name=op.f('uq_members_email')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_members_stripe_customer_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_first_paid_at'), ['first_paid_at'], unique=False)

    op.create_table('banner_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('headline', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('cta_label', sa.Text(), nullable=False),
    sa.Column('cta_url', sa.String(length=2000), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_banner_copy_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_banner_copy')),
    sa.UniqueConstraint('campaign_id', 'locale', 'stage', name=op.f('uq_banner_copy_campaign_id_locale_stage'))
    )
    op.create_table('campaign_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('plan', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('joined', sa.Integer(), nullable=False),
    sa.Column('ended', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_daily_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_daily')),
    sa.UniqueConstraint('campaign_id', 'day', 'plan', 'locale', 'source', name=op.f('uq_campaign_daily_campaign_id_day_plan_locale_source'))
    )
    op.create_table('count_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_count_adjustments_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_adjustments'))
    )
    with op.batch_alter_table('count_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_adjustments_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stripe_id', sa.String(length=255), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('price_id', sa.String(length=255), nullable=False),
    sa.Column('plan', sa.String(length=64), nullable=False),
    sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_subscriptions_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('stripe_id', name=op.f('uq_subscriptions_stripe_id'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_member_id'), ['member_id'], unique=False)



def downgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_member_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('count_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_adjustments_campaign_id'))

    op.drop_table('count_adjustments')
    op.drop_table('campaign_daily')
    op.drop_table('banner_copy')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_first_paid_at'))

    op.drop_table('members')
    op.drop_table('campaigns')
