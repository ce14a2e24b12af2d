"""decisions is append-only

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from portfolio_common import append_only

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    append_only.enable(op, "decisions")


def downgrade():
    append_only.disable(op, "decisions")
