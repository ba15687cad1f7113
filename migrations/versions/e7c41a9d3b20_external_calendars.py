"""owners' external calendars and the busy periods read from them

Revision ID: e7c41a9d3b20
Revises: 9d3c6a2e4f10
Create Date: 2026-11-29 19:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'e7c41a9d3b20'
down_revision = '9d3c6a2e4f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('external_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expanded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_external_calendar_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_calendar')),
    sa.UniqueConstraint('resource_id', 'url', name='uq_external_calendar_resource_url')
    )
    with op.batch_alter_table('external_calendar', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_calendar_resource_id'), ['resource_id'], unique=False)

    op.create_table('external_busy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_external_busy_external_busy_interval')),
    sa.ForeignKeyConstraint(['calendar_id'], ['external_calendar.id'], name=op.f('fk_external_busy_calendar_id_external_calendar'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_external_busy_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_busy'))
    )
    with op.batch_alter_table('external_busy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_busy_calendar_id'), ['calendar_id'], unique=False)
        batch_op.create_index('ix_external_busy_resource_starts', ['resource_id', 'starts_at'], unique=False)


def downgrade():
    with op.batch_alter_table('external_busy', schema=None) as batch_op:
        batch_op.drop_index('ix_external_busy_resource_starts')
        batch_op.drop_index(batch_op.f('ix_external_busy_calendar_id'))
    op.drop_table('external_busy')
    with op.batch_alter_table('external_calendar', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_calendar_resource_id'))
    op.drop_table('external_calendar')
