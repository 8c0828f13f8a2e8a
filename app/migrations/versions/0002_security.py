"""security hardening (issue 11): refund notifications in their own table; session_key no longer stored;
pickup QR tokens as opaque one-time references

Revision ID: 0002_security
Revises: 0001
Create Date: 2026-12-01 15:10:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '0002_security'
down_revision = '0001'
branch_labels = None
depends_on = None

_COLUMNS = "id, event_type, out_trade_no, out_refund_no, transaction_id, outcome, received_at"


def upgrade():
    op.create_table('refund_notifications',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('out_trade_no', sa.String(length=32), nullable=True),
    sa.Column('out_refund_no', sa.String(length=64), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('received_at', app.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_notifications'))
    )
    with op.batch_alter_table('refund_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_notifications_out_trade_no'), ['out_trade_no'], unique=False)
    # Refund notifications recorded so far move to their own table, so their repeats are still recognised.
    op.execute(f"INSERT INTO refund_notifications ({_COLUMNS}) SELECT {_COLUMNS} FROM payment_notifications "
               "WHERE event_type LIKE 'REFUND.%'")
    op.execute("DELETE FROM payment_notifications WHERE event_type LIKE 'REFUND.%'")

    # WeChat's session_key is no longer kept: no feature needs it.
    with op.batch_alter_table('customer_sessions', schema=None) as batch_op:
        batch_op.drop_column('session_key')

    # The QR token is an opaque reference: only its SHA-256 and expiry are kept on the pickup code.
    with op.batch_alter_table('pickup_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qr_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('qr_expires_at', app.models.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_pickup_codes_qr_token_hash'), ['qr_token_hash'], unique=True)


def downgrade():
    with op.batch_alter_table('pickup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pickup_codes_qr_token_hash'))
        batch_op.drop_column('qr_expires_at')
        batch_op.drop_column('qr_token_hash')

    with op.batch_alter_table('customer_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('customer_sessions', schema=None) as batch_op:
        batch_op.alter_column('session_key', server_default=None)

    op.execute(f"INSERT INTO payment_notifications ({_COLUMNS}) SELECT {_COLUMNS} FROM refund_notifications")
    with op.batch_alter_table('refund_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_notifications_out_trade_no'))
    op.drop_table('refund_notifications')
