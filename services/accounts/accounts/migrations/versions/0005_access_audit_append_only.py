"""access_audit is append-only

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from portfolio_common import append_only

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    append_only.enable(op, "access_audit")


def downgrade():
    append_only.disable(op, "access_audit")
