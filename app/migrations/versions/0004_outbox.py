"""job outbox: every background job is a row written in the transaction that causes it

Revision ID: 0004_outbox
Revises: 0003_wechat
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = '0004_outbox'
down_revision = "0003_wechat"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('args', sa.Text(), nullable=False),
    sa.Column('dedup_key', sa.String(length=191), nullable=True),
    sa.Column('retries', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', app.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_outbox')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_job_outbox_dedup_key'))
    )
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_job_outbox_status_available_at', ['status', 'available_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_job_outbox_status_available_at')
    op.drop_table('job_outbox')
