"""sealed students: the database refuses writes to a sealed student's certification tasks

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from portfolio_common import sealing

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# A decision updates its task's status in the same transaction, so protecting tasks refuses
# decisions too (decisions carry no student column of their own).
PROTECTED = {"tasks": "student_id"}


def upgrade():
    sealing.create_table(op)
    sealing.protect(op, PROTECTED)


def downgrade():
    sealing.unprotect(op, PROTECTED)
    sealing.drop_table(op)
