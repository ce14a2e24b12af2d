"""sealed students: the database refuses writes to a sealed student's rows; approved read
requests (from submission) and the log of every read of a sealed student

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common import append_only, sealing

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# every table of a student's data with a tenant column: {table: its student column}
PROTECTED = {
    "students": "id", "outcomes": "student_id", "upload_reservations": "student_id",
    "status_changes": "student_id", "activities": "student_id", "attendance_counts": "student_id",
    "autobiography_versions": "student_id", "career_assessments": "student_id",
    "competitions": "student_id", "consultations": "student_id", "performances": "student_id",
}


def upgrade():
    sealing.create_table(op)
    sealing.protect(op, PROTECTED)
    op.create_table(
        "sealed_read_grants",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("reader_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("approved_by", JSONB, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sealed_read_grants_reader", "sealed_read_grants", ["tenant", "student_id", "reader_user_id"])
    op.create_table(
        "sealed_reads",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("reader_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("request_id", UUID(as_uuid=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )
    append_only.enable(op, "sealed_reads")


def downgrade():
    op.drop_table("sealed_reads")
    op.drop_table("sealed_read_grants")
    sealing.unprotect(op, PROTECTED)
    sealing.drop_table(op)
