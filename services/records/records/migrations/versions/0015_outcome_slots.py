"""an outcome's two slots (document, media): outcomes.files

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # no backfill: a sealed student's rows refuse every change (0014); NULL reads as the one
    # file in the slot of its content type (records.usecases.outcome_files)
    op.add_column('outcomes', sa.Column('files', JSONB(), nullable=True))


def downgrade():
    op.drop_column('outcomes', 'files')
