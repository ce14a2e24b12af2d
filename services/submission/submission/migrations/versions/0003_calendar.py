"""school calendar: terms, per-year limits, the append-only change log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:50:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portfolio_common import append_only

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_terms',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('upload_opens_on', sa.Date(), nullable=False),
        sa.Column('upload_closes_on', sa.Date(), nullable=False),
        sa.Column('certification_opens_on', sa.Date(), nullable=False),
        sa.Column('certification_closes_on', sa.Date(), nullable=False),
        sa.Column('selection_opens_on', sa.Date(), nullable=False),
        sa.Column('selection_closes_on', sa.Date(), nullable=False),
        sa.Column('national_deadline', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('semester in (1, 2)', name='calendar_terms_semester'),
        sa.CheckConstraint('ends_on >= starts_on', name='calendar_terms_days'),
        sa.PrimaryKeyConstraint('tenant', 'school_year', 'semester'),
    )
    op.create_table(
        'calendar_limits',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('outcome_uploads_per_semester', sa.Integer(), nullable=False),
        sa.Column('outcomes_selected_per_year', sa.Integer(), nullable=False),
        sa.Column('performances_selected_per_year', sa.Integer(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tenant', 'school_year'),
    )
    op.create_table(
        'calendar_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_by', sa.UUID(), nullable=False),
        sa.Column('changed_by_username', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant', 'school_year', 'semester', 'version', name='calendar_changes_version'),
    )
    append_only.enable(op, "calendar_changes")


def downgrade():
    append_only.disable(op, "calendar_changes")
    op.drop_table('calendar_changes')
    op.drop_table('calendar_limits')
    op.drop_table('calendar_terms')
