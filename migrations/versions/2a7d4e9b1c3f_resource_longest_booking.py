"""resource longest booking bound

Revision ID: 2a7d4e9b1c3f
Revises: 1c5608ad90df
Create Date: 2026-11-26 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2a7d4e9b1c3f'
down_revision = '1c5608ad90df'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(sa.Column('longest_booking_minutes', sa.Integer(),
                                      server_default='0', nullable=False))
    # Bookings already stored set the bound.
    op.execute(
        "UPDATE resource SET longest_booking_minutes = COALESCE(("
        " SELECT MAX(CAST((julianday(b.blocks_until) - julianday(b.starts_at)) * 1440 + 0.999"
        " AS INTEGER)) FROM booking b WHERE b.resource_id = resource.id), 0)"
        if op.get_bind().dialect.name == "sqlite" else
        "UPDATE resource SET longest_booking_minutes = COALESCE(("
        " SELECT MAX(CEIL(EXTRACT(EPOCH FROM b.blocks_until - b.starts_at) / 60))::int"
        " FROM booking b WHERE b.resource_id = resource.id), 0)"
    )


def downgrade():
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('longest_booking_minutes')
