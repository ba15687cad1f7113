"""the engine's overlap index covers the free search: (resource_id, starts_at) plus
blocks_until, status and quantity, so that its query reads no table row

Revision ID: c5d2e8a1f4b7
Revises: 6d2a9f4c8e17
Create Date: 2026-11-30 02:10:00

"""
from alembic import op

revision = 'c5d2e8a1f4b7'
down_revision = '6d2a9f4c8e17'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_resource_starts')
        batch_op.create_index('ix_booking_resource_starts',
                              ['resource_id', 'starts_at', 'blocks_until', 'status', 'quantity'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_resource_starts')
        batch_op.create_index('ix_booking_resource_starts', ['resource_id', 'starts_at'],
                              unique=False)
