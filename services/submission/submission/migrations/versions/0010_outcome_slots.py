"""an outcome's two slots: the certified copy keeps every fingerprint the certification attests

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('certified_outcomes', sa.Column('fingerprints', JSONB(), nullable=True))


def downgrade():
    op.drop_column('certified_outcomes', 'fingerprints')
