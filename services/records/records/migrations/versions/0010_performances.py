"""student performances (多元表現) with their proof and who entered them

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "performances",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
        sa.Column("school_year", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("description", sa.String(100), nullable=False),
        sa.Column("entered_by", sa.String(10), nullable=False),
        sa.Column("entered_by_user", UUID(as_uuid=True), nullable=False),
        sa.Column("recorded_via", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("file_id", UUID(as_uuid=True)),
        sa.Column("filename", sa.String(255)),
        sa.Column("content_type", sa.String(100)),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("proof_uploaded_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("void_reason", sa.String(200)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("entered_by in ('student','school','external')", name="performances_entered_by"),
        sa.CheckConstraint("state in ('proof_missing','ready','voided')", name="performances_state"),
        sa.CheckConstraint("kind in ('competition','licence','work_based_learning','work','advanced_course','other')",
                           name="performances_kind"),
    )
    op.create_index("ix_performances_student_year", "performances", ["tenant", "student_id", "school_year"])


def downgrade():
    op.drop_table("performances")
