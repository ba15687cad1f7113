"""booking status expired (a request whose start passed undecided), and its index

Revision ID: 4e8b2d6a9c13
Revises: 9c4e2a7b1d5f
Create Date: 2026-11-29 23:00:00

"""
from alembic import op


revision = '4e8b2d6a9c13'
down_revision = '9c4e2a7b1d5f'
branch_labels = None
depends_on = None

# As declared beside the model when written; copied so that this revision never changes.
WITH_EXPIRED = "status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'expired')"
WITHOUT_EXPIRED = "status IN ('pending', 'confirmed', 'rejected', 'cancelled')"


def replace_status_check(condition: str) -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_booking_status'), condition)


def upgrade():
    replace_status_check(WITH_EXPIRED)
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_status_starts', ['status', 'starts_at'], unique=False)


def downgrade():
    # An expired request was a request nobody decided: it reads back as rejected.
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_status_starts')
    op.execute("UPDATE booking SET status = 'rejected' WHERE status = 'expired'")
    replace_status_check(WITHOUT_EXPIRED)
