"""invitations can be withdrawn: account_token.withdrawn_at

Revision ID: 4b8e1f6c2a90
Revises: b3f7d1c9e5a2
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '4b8e1f6c2a90'
down_revision = 'b3f7d1c9e5a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
