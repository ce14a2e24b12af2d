"""consent to release (append-only), per-student locks with versions of the held copy, the
lock/unlock log (append-only)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portfolio_common import append_only

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'release_consents',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by_user_id', sa.UUID(), nullable=False),
        sa.Column('wording_version', sa.String(length=32), nullable=True),
        sa.Column('wording', sa.Text(), nullable=True),
        sa.CheckConstraint("action in ('given', 'revoked')", name='release_consents_action'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_release_consents_student_year', 'release_consents',
                    ['tenant', 'student_user_id', 'school_year', 'id'])
    append_only.enable(op, "release_consents")
    op.create_table(
        'student_locks',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('consent', sa.Boolean(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state in ('locked', 'unlocked')", name='student_locks_state'),
        sa.PrimaryKeyConstraint('tenant', 'student_user_id', 'school_year'),
    )
    op.create_table(
        'lock_events',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('scope_label', sa.String(length=100), nullable=False),
        sa.Column('student_user_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('by_user_id', sa.UUID(), nullable=False),
        sa.Column('by_username', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint("action in ('lock', 'unlock')", name='lock_events_action'),
        sa.PrimaryKeyConstraint('id'),
    )
    append_only.enable(op, "lock_events")
    # held copies get versions: the ones held so far are version 1 (students of a tenant-wide
    # lock made before this revision keep that lock through selection_locks)
    op.add_column('locked_selections', sa.Column('version', sa.Integer(), server_default=sa.text('1'),
                                                 nullable=False))
    op.drop_constraint('locked_selections_pkey', 'locked_selections', type_='primary')
    op.create_primary_key('locked_selections_pkey', 'locked_selections',
                          ['tenant', 'school_year', 'student_user_id', 'version'])


def downgrade():
    op.execute("delete from locked_selections where version > 1")
    op.drop_constraint('locked_selections_pkey', 'locked_selections', type_='primary')
    op.create_primary_key('locked_selections_pkey', 'locked_selections', ['tenant', 'school_year', 'student_user_id'])
    op.drop_column('locked_selections', 'version')
    append_only.disable(op, "lock_events")
    op.drop_table('lock_events')
    op.drop_table('student_locks')
    append_only.disable(op, "release_consents")
    op.drop_index('ix_release_consents_student_year', 'release_consents')
    op.drop_table('release_consents')
