"""an optional e-mail address on users, for the certification reminders (issue 10 item 5)

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(254), nullable=True))


def downgrade():
    op.drop_column("users", "email")
