"""mutual credits: prices, floors, the append-only ledger

Revision ID: 9c4e2a7b1d5f
Revises: 7f3c9a2e4b6d
Create Date: 2026-11-29 19:45:00

"""
from alembic import op
import sqlalchemy as sa


# As declared beside the model; copied so that this revision never changes.
APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER credit_entry_no_{verb.lower()} BEFORE {verb} ON credit_entry "
    f"BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END"
    for verb in ("UPDATE", "DELETE")]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION credit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'credit entries are append-only'; END $$",
    "CREATE TRIGGER credit_entry_append_only BEFORE UPDATE OR DELETE ON credit_entry "
    "FOR EACH ROW EXECUTE FUNCTION credit_entry_append_only()",
]
revision = '9c4e2a7b1d5f'
down_revision = '7f3c9a2e4b6d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_floor_cents', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_organisation_credit_floor_nonpositive'), 'credit_floor_cents IS NULL OR credit_floor_cents <= 0')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('price_unit', sa.String(length=16),
                                      server_default='hour', nullable=False))
        batch_op.add_column(sa.Column('free_cancellation_minutes', sa.Integer(),
                                      server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_resource_price_positive'),
                                         'price_cents IS NULL OR price_cents > 0')
        batch_op.create_check_constraint(op.f('ck_resource_price_unit'), "price_unit IN ('hour', 'booking')")
        batch_op.create_check_constraint(op.f('ck_resource_free_cancellation_nonnegative'),
                                         'free_cancellation_minutes >= 0')
    op.create_table(
        'credit_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('default_floor_cents', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_credit_settings_credit_settings_single_row')),
        sa.CheckConstraint('default_floor_cents <= 0', name=op.f('ck_credit_settings_default_floor_nonpositive')),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'credit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('memo', sa.String(length=300), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("reason IN ('charge', 'refund', 'move', 'grant')",
                           name=op.f('ck_credit_entry_credit_reason')),
        sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_credit_entry_credit_amount_nonzero')),
        sa.CheckConstraint(
            "(reason = 'grant' AND booking_id IS NULL AND memo <> '' AND author_id IS NOT NULL)"
            " OR (reason <> 'grant' AND booking_id IS NOT NULL)", name=op.f('ck_credit_entry_credit_entry_named')),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id']),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_credit_entry_booking_id', ['booking_id'], unique=False)
        batch_op.create_index('ix_credit_entry_organisation_at',
                              ['organisation_id', 'at', 'amount_cents'], unique=False)
        batch_op.create_index('ix_credit_entry_at', ['at'], unique=False)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in APPEND_ONLY_SQLITE if sqlite else APPEND_ONLY_POSTGRESQL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.execute('DROP TRIGGER credit_entry_append_only ON credit_entry')
        op.execute('DROP FUNCTION credit_entry_append_only()')
    op.drop_table('credit_entry')  # drops its SQLite triggers with it
    op.drop_table('credit_settings')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_resource_free_cancellation_nonnegative'), type_='check')
        batch_op.drop_constraint(op.f('ck_resource_price_unit'), type_='check')
        batch_op.drop_constraint(op.f('ck_resource_price_positive'), type_='check')
        batch_op.drop_column('free_cancellation_minutes')
        batch_op.drop_column('price_unit')
        batch_op.drop_column('price_cents')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisation_credit_floor_nonpositive'), type_='check')
        batch_op.drop_column('credit_floor_cents')
