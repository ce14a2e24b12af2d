"""selection: outcome states, performance copies, current selection + append-only change log
(replaces the delete-and-replace `selections`; existing rows become version 1)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30 00:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portfolio_common import append_only

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outcome_states',
        sa.Column('outcome_id', sa.UUID(), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_id', sa.UUID(), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=False),
        sa.Column('course_code', sa.String(length=40), nullable=False),
        sa.Column('subject_name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=100), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state in ('uploaded', 'returned')", name='outcome_states_state'),
        sa.PrimaryKeyConstraint('outcome_id'),
    )
    op.create_index('ix_outcome_states_student_year', 'outcome_states', ['tenant', 'student_user_id', 'school_year'])
    op.create_table(
        'performance_copies',
        sa.Column('performance_id', sa.UUID(), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_id', sa.UUID(), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('performance_kind', sa.String(length=32), nullable=False),
        sa.Column('entered_by', sa.String(length=16), nullable=False),
        sa.Column('description', sa.String(length=100), nullable=False),
        sa.Column('file_id', sa.UUID(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('performance_id'),
    )
    op.create_index('ix_performance_copies_student_year', 'performance_copies',
                    ['tenant', 'student_user_id', 'school_year'])
    op.create_table(
        'student_selections',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('outcome_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('performance_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tenant', 'student_user_id', 'school_year'),
    )
    op.create_table(
        'selection_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant', 'student_user_id', 'school_year', 'version', name='selection_changes_version'),
    )
    # The rows of the old table become each student's version 1, made by the student when
    # they last saved (the old table kept no author: a student saved only their own).
    op.execute("""
        insert into student_selections (tenant, student_user_id, school_year, outcome_ids, performance_ids,
                                        version, changed_by, changed_at)
        select tenant, student_user_id, school_year,
               jsonb_agg(outcome_id::text order by selected_at, outcome_id), '[]'::jsonb, 1,
               student_user_id, max(selected_at)
          from selections group by tenant, student_user_id, school_year""")
    op.execute("""
        insert into selection_changes (tenant, student_user_id, school_year, version, changed_by, changed_at,
                                       before, after)
        select tenant, student_user_id, school_year, 1, changed_by, changed_at, null,
               jsonb_build_object('outcome_ids', outcome_ids, 'performance_ids', performance_ids)
          from student_selections""")
    op.drop_table('selections')
    op.add_column('locked_selections', sa.Column('performances', postgresql.JSONB(astext_type=sa.Text()),
                                                 server_default=sa.text("'[]'::jsonb"), nullable=False))
    append_only.enable(op, "selection_changes")


def downgrade():
    append_only.disable(op, "selection_changes")
    op.drop_column('locked_selections', 'performances')
    op.create_table(
        'selections',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('outcome_id', sa.UUID(), nullable=False),
        sa.Column('selected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['outcome_id'], ['certified_outcomes.outcome_id']),
        sa.PrimaryKeyConstraint('student_user_id', 'school_year', 'outcome_id'),
    )
    op.execute("""
        insert into selections (tenant, student_user_id, school_year, outcome_id, selected_at)
        select s.tenant, s.student_user_id, s.school_year, (o.value #>> '{}')::uuid, s.changed_at
          from student_selections s, jsonb_array_elements(s.outcome_ids) o""")
    op.drop_table('selection_changes')
    op.drop_table('student_selections')
    op.drop_index('ix_performance_copies_student_year', 'performance_copies')
    op.drop_table('performance_copies')
    op.drop_index('ix_outcome_states_student_year', 'outcome_states')
    op.drop_table('outcome_states')
