"""Sealing's tables, on submission's metadata (one Alembic chain: submission/migrations)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common import sealing

from ..orm import metadata

# Append-only: every recording of a student's college application date (who, when, what); the
# latest row is the date in force, the earlier ones are the "before" of each change.
college_applications = sa.Table(
    "college_applications", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("recorded_by", UUID(as_uuid=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_college_applications_student", "tenant", "student_id", "recorded_at"),
)

sealed_students = sealing.table(metadata)

# The signed sealing manifest of each sealed student (Ed25519, SUBMISSION_SIGNING_KEY).
sealing_manifests = sa.Table(
    "sealing_manifests", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("student_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("manifest", JSONB, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),   # base64url of the Ed25519 signature
    sa.Column("key_id", sa.String(40), nullable=False),
    sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
)

# A request to read a sealed student's data (DOMAIN.md: reads only through an audited request):
# the registrar (註冊組 / 教務組) asks with a reason; the principal and the executive secretary
# both approve (two roles, two people, neither the requester); it is valid READ_VALID_DAYS.
sealed_read_requests = sa.Table(
    "sealed_read_requests", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("requested_by", UUID(as_uuid=True), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Index("ix_sealed_read_requests_tenant", "tenant", "requested_at"),
)

# Append-only: each approval, by role (one per role and request).
sealed_read_approvals = sa.Table(
    "sealed_read_approvals", metadata,
    sa.Column("request_id", UUID(as_uuid=True), sa.ForeignKey("sealed_read_requests.id"), primary_key=True),
    sa.Column("role", sa.String(40), primary_key=True),
    sa.Column("approver_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
)
