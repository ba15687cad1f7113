"""feed keys per user; a resource's public busy-only feed

Revision ID: 7f3c9a2e4b6d
Revises: e7c41a9d3b20
Create Date: 2026-11-29 19:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '7f3c9a2e4b6d'
down_revision = 'e7c41a9d3b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_key',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_feed_key_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_feed_key')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_key_token_hash'))
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_busy_feed', sa.Boolean(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('public_busy_feed')
    op.drop_table('feed_key')
