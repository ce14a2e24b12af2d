"""course grades (修課紀錄: 學期成績, 補考, 及格, 學年成績) and class hours (進修部 節數) on sections

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 00:11:22.244291
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_grades',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('tenant', sa.String(length=32), nullable=False),
    sa.Column('student_id', sa.UUID(), nullable=False),
    sa.Column('school_year', sa.Integer(), nullable=False),
    sa.Column('semester', sa.SmallInteger(), nullable=False),
    sa.Column('recorded_via', sa.String(length=20), nullable=False),
    sa.Column('recorded_by', sa.UUID(), nullable=True),
    sa.Column('recorded_by_username', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by', sa.UUID(), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=True),
    sa.Column('section_id', sa.UUID(), nullable=False),
    sa.Column('course_code', sa.String(length=40), nullable=False),
    sa.Column('semester_grade', sa.SmallInteger(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('makeup_grade', sa.SmallInteger(), nullable=True),
    sa.Column('makeup_passed', sa.Boolean(), nullable=True),
    sa.Column('credit_counted', sa.Boolean(), nullable=False),
    sa.Column('pass_exception', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('remark', sa.String(length=200), nullable=True),
    sa.Column('yearly_grade', sa.SmallInteger(), nullable=True),
    sa.Column('yearly_passed', sa.Boolean(), nullable=True),
    sa.CheckConstraint('makeup_grade is null or makeup_grade between 0 and 100', name='course_grades_makeup'),
    sa.CheckConstraint('semester_grade between 0 and 100', name='course_grades_grade'),
    sa.CheckConstraint('yearly_grade is null or yearly_grade between 0 and 100', name='course_grades_yearly'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], ),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('course_grades_once', 'course_grades', ['tenant', 'student_id', 'section_id'], unique=True, postgresql_where=sa.text('voided_at is null'))
    op.create_index('ix_course_grades_section', 'course_grades', ['section_id'], unique=False)
    op.create_index('ix_course_grades_student', 'course_grades', ['tenant', 'student_id'], unique=False)
    op.add_column('sections', sa.Column('class_hours', sa.SmallInteger(), nullable=True))
    op.alter_column('sections', 'credits',
               existing_type=sa.SMALLINT(),
               nullable=True)
    op.create_check_constraint("sections_credits_or_hours", "sections",
                               "credits is not null or class_hours is not null")


def downgrade():
    op.drop_constraint("sections_credits_or_hours", "sections", type_="check")
    op.alter_column('sections', 'credits',
               existing_type=sa.SMALLINT(),
               nullable=False)
    op.drop_column('sections', 'class_hours')
    op.drop_index('ix_course_grades_student', table_name='course_grades')
    op.drop_index('ix_course_grades_section', table_name='course_grades')
    op.drop_index('course_grades_once', table_name='course_grades', postgresql_where=sa.text('voided_at is null'))
    op.drop_table('course_grades')
