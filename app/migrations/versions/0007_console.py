"""merchant console: users, their stores, the audit log, scan-to-login nonces

Revision ID: 0007_console
Revises: 0006_staff_attribution
Create Date: 2026-12-01 15:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import app.models.types


revision = '0007_console'
down_revision = '0006_staff_attribution'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('wechat_openid', sa.String(length=64), nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', app.models.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("role IN ('owner', 'manager', 'viewer')", name=op.f('ck_console_users_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_users')),
    sa.UniqueConstraint('username', name=op.f('uq_console_users_username')),
    sa.UniqueConstraint('wechat_openid', name=op.f('uq_console_users_wechat_openid'))
    )
    op.create_table('console_user_stores',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_console_user_stores_store_id_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_console_user_stores_user_id_console_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'store_id', name=op.f('pk_console_user_stores'))
    )
    with op.batch_alter_table('console_user_stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_user_stores_store_id'), ['store_id'], unique=False)

    op.create_table('console_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_console_audit_log_user_id_console_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_audit_log'))
    )
    with op.batch_alter_table('console_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_audit_log_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('console_login_nonces',
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', app.models.types.UTCDateTime(), nullable=True),
    sa.Column('used_at', app.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_console_login_nonces_user_id_console_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('nonce_hash', name=op.f('pk_console_login_nonces'))
    )
    op.create_table('console_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', app.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_console_imports_user_id_console_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_imports'))
    )
    with op.batch_alter_table('console_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_imports_user_id'), ['user_id'], unique=False)


def downgrade():
    # Dropping a table drops its indexes; MySQL refuses to drop an index a foreign key needs first.
    for table in ('console_imports', 'console_login_nonces', 'console_audit_log', 'console_user_stores',
                  'console_users'):
        op.drop_table(table)
