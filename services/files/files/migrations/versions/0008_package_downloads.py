"""package downloads: packages built by submission (national package and rosters, transfer
packages) kept a day in S3 for the one person who asked, and the append-only log of their
downloads (issue 9: large downloads through files)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from portfolio_common import append_only

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'package_downloads',
        sa.Column('id', UUID(as_uuid=True), primary_key=True),
        sa.Column('tenant', sa.String(32), nullable=False),
        sa.Column('purpose', sa.String(40), nullable=False),
        sa.Column('subject', sa.String(200), nullable=False),
        sa.Column('requested_by', UUID(as_uuid=True), nullable=False),
        sa.Column('producer', sa.String(40), nullable=False),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('content_type', sa.String(100), nullable=False),
        sa.Column('size', sa.BigInteger, nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('bucket', sa.String(63), nullable=False),
        sa.Column('key', sa.String(512), nullable=False),
        sa.Column('version_id', sa.String(200)),
        sa.Column('state', sa.String(20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expired_at', sa.DateTime(timezone=True)),
    )
    op.create_index('ix_package_downloads_stored_expiry', 'package_downloads', ['expires_at'],
                    postgresql_where=sa.text("state = 'stored'"))
    op.create_table(
        'package_download_log',
        sa.Column('ticket_id', UUID(as_uuid=True), primary_key=True),
        sa.Column('download_id', UUID(as_uuid=True), sa.ForeignKey('package_downloads.id'), nullable=False),
        sa.Column('tenant', sa.String(32), nullable=False),
        sa.Column('user_id', UUID(as_uuid=True), nullable=False),
        sa.Column('remote_addr', sa.String(64)),
        sa.Column('range', sa.String(100)),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index('ix_package_download_log_download', 'package_download_log', ['download_id'])
    append_only.enable(op, 'package_download_log')


def downgrade():
    append_only.disable(op, 'package_download_log')
    op.drop_table('package_download_log')
    op.drop_table('package_downloads')
