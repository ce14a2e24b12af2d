"""sealing: college application dates (append-only), sealed students, signed manifests; the
database refuses writes to a sealed student's selections, consents, locks and application dates

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common import append_only, sealing

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_BY_USER = ("student_user_id", "student_user_id")
# a student's selection, its change log, consents, lock and held copies (submission/selection)
PROTECTED = {"student_selections": _BY_USER, "selection_changes": _BY_USER, "release_consents": _BY_USER,
             "student_locks": _BY_USER, "locked_selections": _BY_USER, "college_applications": "student_id"}


def upgrade():
    op.create_table(
        "college_applications",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("applied_on", sa.Date, nullable=False),
        sa.Column("recorded_by", UUID(as_uuid=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_college_applications_student", "college_applications",
                    ["tenant", "student_id", "recorded_at"])
    append_only.enable(op, "college_applications")
    sealing.create_table(op)
    op.create_table(
        "sealing_manifests",
        sa.Column("tenant", sa.String(32), primary_key=True),
        sa.Column("student_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("manifest", JSONB, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    append_only.enable(op, "sealing_manifests")
    sealing.protect(op, PROTECTED)


def downgrade():
    sealing.unprotect(op, PROTECTED)
    op.drop_table("sealing_manifests")
    sealing.drop_table(op)
    op.drop_table("college_applications")
