"""a partial index of cancelled bookings: a report's cancellations read only them

Revision ID: b3f7d1c9e5a2
Revises: 4e8b2d6a9c13
Create Date: 2026-11-29 23:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'b3f7d1c9e5a2'
down_revision = '4e8b2d6a9c13'
branch_labels = None
depends_on = None

CANCELLED = sa.text("status = 'cancelled'")


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_cancelled_starts',
                              ['starts_at', 'resource_id', 'organisation_id', 'decided_at'],
                              unique=False, sqlite_where=CANCELLED, postgresql_where=CANCELLED)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_cancelled_starts')
