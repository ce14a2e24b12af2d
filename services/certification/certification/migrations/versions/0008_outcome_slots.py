"""an outcome's two slots: a round holds all the outcome's files (tasks.files) and a decision
records every fingerprint it attests (decisions.fingerprints)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # nullable, no backfill: decisions are append-only and sealed students' rows refuse changes;
    # NULL reads as the one file of the round (certification.domain.round_files)
    op.add_column('tasks', sa.Column('files', JSONB(), nullable=True))
    op.add_column('decisions', sa.Column('fingerprints', JSONB(), nullable=True))


def downgrade():
    op.drop_column('decisions', 'fingerprints')
    op.drop_column('tasks', 'files')
