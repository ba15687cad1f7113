"""mail outbox, written in the change's transaction; notification preferences

Revision ID: 9d3c6a2e4f10
Revises: 7d3c9a1e5f20
Create Date: 2026-11-29 19:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = '9d3c6a2e4f10'
down_revision = '7d3c9a1e5f20'
branch_labels = None
depends_on = None

KINDS = "'invitation', 'password_reset', 'lockout', 'digest', 'request', 'decision', " \
    "'confirmation', 'cancellation', 'staff'"
NOTIFICATION_KINDS = "'request', 'decision', 'confirmation', 'cancellation', 'staff'"


def upgrade():
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=40), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f('ck_outbox_message_outbox_kind')),
        sa.CheckConstraint("status IN ('waiting', 'sending', 'sent', 'failed', 'held', "
                           "'digested')", name=op.f('ck_outbox_message_outbox_status')),
        sa.CheckConstraint('attempts >= 0',
                           name=op.f('ck_outbox_message_outbox_attempts_nonnegative')),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'],
                                name=op.f('fk_outbox_message_booking_id_booking')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_outbox_message_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_status_due', ['status', 'due_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_booking_id'), ['booking_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_user_id'), ['user_id'],
                              unique=False)
    op.create_table(
        'notification_preference',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('setting', sa.String(length=16), nullable=False),
        sa.CheckConstraint(f"kind IN ({NOTIFICATION_KINDS})",
                           name=op.f('ck_notification_preference_preference_kind')),
        sa.CheckConstraint("setting IN ('off', 'digest')",
                           name=op.f('ck_notification_preference_preference_setting')),
        sa.CheckConstraint("setting <> 'digest' OR kind = 'request'",
                           name=op.f('ck_notification_preference_digest_for_requests')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_notification_preference_user_id_user')),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preference')),
    )


def downgrade():
    op.drop_table('notification_preference')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_user_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_booking_id'))
        batch_op.drop_index('ix_outbox_message_status_due')
    op.drop_table('outbox_message')
