"""an outcome's two slots: each upload and stored file of an outcome names its slot
(document | media); rows from before slots stay NULL (the slot of their content type)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # no backfill: sealed students' rows refuse every change (0005), and NULL reads as the
    # slot of the file's content type (files.usecases._slot_of)
    for table in ('uploads', 'stored_files'):
        op.add_column(table, sa.Column('slot', sa.String(length=10), nullable=True))


def downgrade():
    for table in ('uploads', 'stored_files'):
        op.drop_column(table, 'slot')
