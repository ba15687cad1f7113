"""the organisation index of bookings covers the quota sums

Revision ID: 5b8e1f0c7d2a
Revises: 2a7d4e9b1c3f
Create Date: 2026-11-26 08:15:00

"""
from alembic import op

revision = '5b8e1f0c7d2a'
down_revision = '2a7d4e9b1c3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_organisation_starts')
        batch_op.create_index('ix_booking_organisation_starts',
                              ['organisation_id', 'starts_at', 'ends_at', 'status',
                               'resource_id'], unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_organisation_starts')
        batch_op.create_index('ix_booking_organisation_starts',
                              ['organisation_id', 'starts_at'], unique=False)
