"""users: a session version (revocable sign-ins) and a lockout after wrong passwords

Revision ID: 7d3c9a1e5f20
Revises: 5b8e1f0c7d2a
Create Date: 2026-11-29 19:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7d3c9a1e5f20'
down_revision = '5b8e1f0c7d2a'
branch_labels = None
depends_on = None


# Plain ADD COLUMN, not a batch: SQLite's table rebuild would lose the expression index
# uq_user_email_lower.
def upgrade():
    op.add_column('user', sa.Column('session_version', sa.Integer(), server_default='0',
                                    nullable=False))
    op.add_column('user', sa.Column('failed_logins', sa.Integer(), server_default='0',
                                    nullable=False))
    op.add_column('user', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_index('uq_user_email_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('session_version')
    op.create_index('uq_user_email_lower', 'user', [sa.text('lower(email)')], unique=True)
