"""uploads and stored files per (subject, attempt): a returned outcome uploaded again is a new upload

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('uploads', 'stored_files'):
        op.add_column(table, sa.Column('attempt', sa.SmallInteger(), server_default='1', nullable=False))
        op.drop_constraint(f'{table}_subject_id_key', table, type_='unique')
        op.create_unique_constraint(f'{table}_subject_attempt_key', table, ['subject_id', 'attempt'])


def downgrade():
    for table in ('uploads', 'stored_files'):
        op.drop_constraint(f'{table}_subject_attempt_key', table, type_='unique')
        op.create_unique_constraint(f'{table}_subject_id_key', table, ['subject_id'])
        op.drop_column(table, 'attempt')
