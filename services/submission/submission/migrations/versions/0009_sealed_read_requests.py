"""sealed read requests and their approvals (two roles)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from portfolio_common import append_only

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sealed_read_requests",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("requested_by", UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_sealed_read_requests_tenant", "sealed_read_requests", ["tenant", "requested_at"])
    op.create_table(
        "sealed_read_approvals",
        sa.Column("request_id", UUID(as_uuid=True), sa.ForeignKey("sealed_read_requests.id"), primary_key=True),
        sa.Column("role", sa.String(40), primary_key=True),
        sa.Column("approver_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
    )
    append_only.enable(op, "sealed_read_approvals")


def downgrade():
    op.drop_table("sealed_read_approvals")
    op.drop_table("sealed_read_requests")
