"""uploads: one row per ticket's upload (resumable state, how it ended)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'uploads',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('subject_id', sa.UUID(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('tenant', sa.String(length=32), nullable=False),
        sa.Column('student_id', sa.UUID(), nullable=False),
        sa.Column('student_user_id', sa.UUID(), nullable=False),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('semester', sa.SmallInteger(), nullable=True),
        sa.Column('claims', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=True),
        sa.Column('resumable', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=True),
        sa.Column('offset', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('segments', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('type_name', sa.String(length=10), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=True),
        sa.Column('file_id', sa.UUID(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subject_id'),
    )
    op.create_index('ix_uploads_receiving_expiry', 'uploads', ['expires_at'], unique=False,
                    postgresql_where=sa.text("state = 'receiving'"))


def downgrade():
    op.drop_index('ix_uploads_receiving_expiry', table_name='uploads',
                  postgresql_where=sa.text("state = 'receiving'"))
    op.drop_table('uploads')
