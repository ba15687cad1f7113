"""credit entries name the booking's organisation: reports sum credits without bookings

Revision ID: 6d2a9f4c8e17
Revises: 4b8e1f6c2a90
Create Date: 2026-11-30 02:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6d2a9f4c8e17'
down_revision = '4b8e1f6c2a90'
branch_labels = None
depends_on = None

# As created by 9c4e2a7b1d5f_mutual_credits; copied so that this revision never changes.
APPEND_ONLY_SQLITE = {
    verb: f"CREATE TRIGGER credit_entry_no_{verb.lower()} BEFORE {verb} ON credit_entry "
          f"BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END"
    for verb in ("UPDATE", "DELETE")}
FOREIGN_KEY = 'fk_credit_entry_booking_organisation_id_organisation'
# the ledger refuses updates, but for this copy of what it already says
BACKFILL = ("UPDATE credit_entry SET booking_organisation_id = (SELECT booking.organisation_id"
            " FROM booking WHERE booking.id = credit_entry.booking_id)"
            " WHERE booking_id IS NOT NULL")


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':  # Alembic adds no foreign key there
        op.execute(f'ALTER TABLE credit_entry ADD COLUMN booking_organisation_id INTEGER '
                   f'CONSTRAINT {FOREIGN_KEY} REFERENCES organisation (id)')
        op.execute('DROP TRIGGER credit_entry_no_update')
        op.execute(BACKFILL)
        op.execute(APPEND_ONLY_SQLITE['UPDATE'])
        return
    op.add_column('credit_entry', sa.Column(
        'booking_organisation_id', sa.Integer(),
        sa.ForeignKey('organisation.id', name=op.f(FOREIGN_KEY)), nullable=True))
    op.execute('ALTER TABLE credit_entry DISABLE TRIGGER credit_entry_append_only')
    op.execute(BACKFILL)
    op.execute('ALTER TABLE credit_entry ENABLE TRIGGER credit_entry_append_only')


def downgrade():
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.drop_column('booking_organisation_id')
    if op.get_bind().dialect.name == 'sqlite':  # the copied table lost its triggers
        for statement in APPEND_ONLY_SQLITE.values():
            op.execute(statement)
