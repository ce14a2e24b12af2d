"""sealed students: the database refuses a sealed student's new uploads and changes to their
stored files' rows

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from portfolio_common import sealing

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

PROTECTED = {"uploads": "student_id", "stored_files": "student_id"}


def upgrade():
    sealing.create_table(op)
    sealing.protect(op, PROTECTED)


def downgrade():
    sealing.unprotect(op, PROTECTED)
    sealing.drop_table(op)
