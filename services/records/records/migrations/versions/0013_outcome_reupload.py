"""re-upload of a returned outcome: the round the student sees and the tickets issued for it

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # upload_round: 1 for the first upload, +1 for each re-upload stored (shown to the student)
    op.add_column('outcomes', sa.Column('upload_round', sa.SmallInteger(), server_default='1', nullable=False))
    # ticket_attempts: upload tickets issued for this outcome (files keys an upload by outcome and attempt)
    op.add_column('outcomes', sa.Column('ticket_attempts', sa.SmallInteger(), server_default='1', nullable=False))


def downgrade():
    op.drop_column('outcomes', 'ticket_attempts')
    op.drop_column('outcomes', 'upload_round')
