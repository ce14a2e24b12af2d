"""upload keys bound to their upload: a reservation records the section and 簡述 its key was
issued for, so a reuse of the key for another upload can be refused (issue 6 item 9)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:46:01.751569
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FK = 'upload_reservations_section_id_fkey'


def upgrade():
    # Nullable: reservations made before this revision (alive at most 15 minutes, kept a day)
    # know their term but not their section or 簡述; the use case binds them on first reuse.
    op.add_column('upload_reservations', sa.Column('section_id', sa.UUID(), nullable=True))
    op.add_column('upload_reservations', sa.Column('description', sa.String(length=100), nullable=True))
    op.create_foreign_key(FK, 'upload_reservations', 'sections', ['section_id'], ['id'])


def downgrade():
    op.drop_constraint(FK, 'upload_reservations', type_='foreignkey')
    op.drop_column('upload_reservations', 'description')
    op.drop_column('upload_reservations', 'section_id')
