"""booked months: bookings summed per resource, organisation and month of the site clock

Revision ID: 8e3b5c7d9f21
Revises: c5d2e8a1f4b7
Create Date: 2026-11-30 05:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8e3b5c7d9f21'
down_revision = 'c5d2e8a1f4b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'booked_month',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('resource_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.BigInteger(), nullable=False),
        sa.Column('unit_seconds', sa.BigInteger(), nullable=False),
        sa.Column('bookings', sa.Integer(), nullable=False),
        sa.Column('cancelled', sa.Integer(), nullable=False),
        sa.Column('cancelled_late', sa.Integer(), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_booked_month_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['resource_id'], ['resource.id'],
                                name=op.f('fk_booked_month_resource_id_resource')),
        sa.PrimaryKeyConstraint('month', 'resource_id', 'organisation_id',
                                name=op.f('pk_booked_month')),
    )
    # The months of the bookings already made are counted by the code that keeps them: the
    # cut at each site's midnight, DST included, is not worth a second copy here.
    from sharing.models import recount_booked_months
    recount_booked_months(op.get_bind())


def downgrade():
    op.drop_table('booked_month')
