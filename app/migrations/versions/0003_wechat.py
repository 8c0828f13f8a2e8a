"""WeChat fidelity: subscription grants, follower-link tokens, shipping failure reason, payment closed_at

Revision ID: 0003_wechat
Revises: 0002_security
"""
from alembic import op
import sqlalchemy as sa

import app.models.types


revision = '0003_wechat'
down_revision = "0002_security"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscription_grants',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('last_result', sa.String(length=8), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscription_grants_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'template_id', name=op.f('pk_subscription_grants'))
    )
    op.create_table('follower_link_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', app.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['follower_id'], ['followers.id'], name=op.f('fk_follower_link_tokens_follower_id_followers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_follower_link_tokens'))
    )
    with op.batch_alter_table('follower_link_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follower_link_tokens_follower_id'), ['follower_id'], unique=False)
    with op.batch_alter_table('shipping_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure_reason', sa.String(length=200), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', app.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('shipping_reports', schema=None) as batch_op:
        batch_op.drop_column('failure_reason')
    op.drop_table('follower_link_tokens')  # its index goes with it (MariaDB refuses to drop an FK's index first)
    op.drop_table('subscription_grants')
