"""locked selections' files: which object versions files holds (legal hold) for each student's
locked selection of a school year, per lock version (selection-locked, files/locked.py)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from portfolio_common import sealing

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PROTECTED = {"locked_selections": "student_id", "locked_files": "student_id"}


def upgrade():
    op.create_table(
        'locked_selections',
        sa.Column('tenant', sa.String(32), primary_key=True),
        sa.Column('student_user_id', UUID(as_uuid=True), primary_key=True),
        sa.Column('school_year', sa.Integer, primary_key=True),
        sa.Column('student_id', UUID(as_uuid=True), nullable=False),
        sa.Column('lock_version', sa.Integer, nullable=False),
        sa.Column('event_id', UUID(as_uuid=True), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        'locked_files',
        sa.Column('tenant', sa.String(32), primary_key=True),
        sa.Column('student_user_id', UUID(as_uuid=True), primary_key=True),
        sa.Column('school_year', sa.Integer, primary_key=True),
        sa.Column('lock_version', sa.Integer, primary_key=True),
        sa.Column('file_id', UUID(as_uuid=True), sa.ForeignKey('stored_files.id'), primary_key=True),
        sa.Column('student_id', UUID(as_uuid=True), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('held_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index('ix_locked_files_file', 'locked_files', ['file_id'])
    sealing.protect(op, PROTECTED)


def downgrade():
    sealing.unprotect(op, PROTECTED)
    op.drop_table('locked_files')
    op.drop_table('locked_selections')
