"""calendar copy fed by calendar-changed (upload window and per-semester limit)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_terms',
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('term', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('tenant', 'school_year', 'semester'),
    )


def downgrade():
    op.drop_table('calendar_terms')
