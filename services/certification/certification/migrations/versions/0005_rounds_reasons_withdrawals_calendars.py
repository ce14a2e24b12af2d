"""rounds of a task, attestations on a fingerprint with a listed reason, withdrawals, the
school's return reasons and the event-fed calendar copy

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portfolio_common import append_only

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # tasks: one row per round of an outcome
    op.add_column('tasks', sa.Column('round', sa.SmallInteger(), server_default='1', nullable=False))
    op.add_column('tasks', sa.Column('content_type', sa.String(length=100), nullable=True))
    op.add_column('tasks', sa.Column('closed_reason', sa.String(length=200), nullable=True))
    op.add_column('tasks', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint('tasks_outcome_id_key', 'tasks', type_='unique')
    op.create_unique_constraint('uq_tasks_outcome_round', 'tasks', ['outcome_id', 'round'])
    op.create_index('uq_tasks_one_open_round', 'tasks', ['outcome_id'], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_tasks_student', 'tasks', ['tenant', 'student_id', 'status'], unique=False)

    # decisions: the listed reason and the fingerprint decided on (filled in for earlier rows
    # from their task, which then held one file)
    op.add_column('decisions', sa.Column('reason_code', sa.String(length=40), nullable=True))
    op.add_column('decisions', sa.Column('sha256', sa.String(length=64), nullable=True))
    append_only.disable(op, 'decisions')
    op.execute("UPDATE decisions d SET sha256 = t.sha256 FROM tasks t WHERE t.id = d.task_id")
    append_only.enable(op, 'decisions')

    op.create_table('withdrawals',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('tenant', sa.String(length=32), nullable=False),
    sa.Column('actor_user_id', sa.UUID(), nullable=False),
    sa.Column('acting_for', sa.UUID(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id')
    )
    append_only.enable(op, 'withdrawals')

    op.create_table('return_reasons',
    sa.Column('tenant', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('needs_note', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'code')
    )

    op.create_table('calendars',
    sa.Column('tenant', sa.String(length=32), nullable=False),
    sa.Column('school_year', sa.Integer(), nullable=False),
    sa.Column('semester', sa.SmallInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('certification_opens_on', sa.Date(), nullable=False),
    sa.Column('certification_closes_on', sa.Date(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'school_year', 'semester')
    )


def downgrade():
    op.drop_table('calendars')
    op.drop_table('return_reasons')
    append_only.disable(op, 'withdrawals')
    op.drop_table('withdrawals')
    op.drop_column('decisions', 'sha256')
    op.drop_column('decisions', 'reason_code')
    op.drop_index('ix_tasks_student', table_name='tasks')
    op.drop_index('uq_tasks_one_open_round', table_name='tasks', postgresql_where=sa.text("status = 'pending'"))
    op.drop_constraint('uq_tasks_outcome_round', 'tasks', type_='unique')
    op.create_unique_constraint('tasks_outcome_id_key', 'tasks', ['outcome_id'])
    op.drop_column('tasks', 'closed_at')
    op.drop_column('tasks', 'closed_reason')
    op.drop_column('tasks', 'content_type')
    op.drop_column('tasks', 'round')
