"""national side: batches, their rows with the receipt's results, students' error reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'national_batches',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('school_code', sa.String(length=10), nullable=False),
        sa.Column('column_set', sa.Integer(), nullable=False),
        sa.Column('package_sha256', sa.String(length=64), nullable=False),
        sa.Column('package_size', sa.BigInteger(), nullable=False),
        sa.Column('manifest', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('submitted_by', sa.UUID(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('receipt_id', sa.String(length=64), nullable=True),
        sa.Column('receipt_imported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('receipt_imported_by', sa.UUID(), nullable=True),
        sa.Column('check_until', sa.Date(), nullable=True),
        sa.Column('accepted', sa.Integer(), nullable=True),
        sa.Column('refused', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant', 'school_year', 'semester', 'attempt'),
    )
    op.create_table(
        'national_rows',
        sa.Column('batch_id', sa.UUID(), nullable=False),
        sa.Column('roster', sa.String(length=40), nullable=False),
        sa.Column('row_no', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_id', sa.UUID(), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('student_name', sa.String(length=100), server_default='', nullable=False),
        sa.Column('class_name', sa.String(length=100), server_default='', nullable=False),
        sa.Column('seat_no', sa.Integer(), nullable=True),
        sa.Column('outcome_id', sa.UUID(), nullable=True),
        sa.Column('course_code', sa.String(length=40), nullable=False),
        sa.Column('subject_name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('result', sa.String(length=12), server_default='pending', nullable=False),
        sa.Column('field', sa.String(length=40), nullable=True),
        sa.Column('code', sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['national_batches.id']),
        sa.PrimaryKeyConstraint('batch_id', 'roster', 'row_no'),
    )
    op.create_index('ix_national_rows_student', 'national_rows', ['tenant', 'student_user_id'])
    op.create_table(
        'national_reports',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('batch_id', sa.UUID(), nullable=False),
        sa.Column('roster', sa.String(length=40), nullable=False),
        sa.Column('row_no', sa.Integer(), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=12), server_default='open', nullable=False),
        sa.Column('resolution', sa.String(length=500), nullable=True),
        sa.Column('resolved_by', sa.UUID(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['national_batches.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_national_reports_batch', 'national_reports', ['tenant', 'batch_id'])


def downgrade():
    op.drop_index('ix_national_reports_batch', table_name='national_reports')
    op.drop_table('national_reports')
    op.drop_index('ix_national_rows_student', table_name='national_rows')
    op.drop_table('national_rows')
    op.drop_table('national_batches')
