"""Tables of the national side: batches (one submission of a tenant's semester), their rows with
the receipt's result, and the students' error reports on their rows. Nothing here holds a
national ID: rows name the student by id and the roster row by number."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from ..orm import metadata


def _at(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


# One package sent to the national side (attempt 1, 2, ... of a tenant's semester).
national_batches = sa.Table(
    "national_batches", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("school_code", sa.String(10), nullable=False),
    sa.Column("column_set", sa.Integer, nullable=False),
    sa.Column("package_sha256", sa.String(64), nullable=False),
    sa.Column("package_size", sa.BigInteger, nullable=False),
    sa.Column("manifest", JSONB, nullable=False),
    sa.Column("submitted_by", UUID(as_uuid=True), nullable=False),
    _at("submitted_at"),
    sa.Column("receipt_id", sa.String(64)),
    _at("receipt_imported_at", True),
    sa.Column("receipt_imported_by", UUID(as_uuid=True)),
    sa.Column("check_until", sa.Date),      # students may report errors through this day
    sa.Column("accepted", sa.Integer),
    sa.Column("refused", sa.Integer),
    sa.UniqueConstraint("tenant", "school_year", "semester", "attempt"),
)

# One roster row of a batch and what the receipt said about it.
national_rows = sa.Table(
    "national_rows", metadata,
    sa.Column("batch_id", UUID(as_uuid=True), sa.ForeignKey("national_batches.id"), primary_key=True),
    sa.Column("roster", sa.String(40), primary_key=True),
    sa.Column("row_no", sa.Integer, primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("class_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("seat_no", sa.Integer),
    sa.Column("outcome_id", UUID(as_uuid=True)),
    sa.Column("course_code", sa.String(40), nullable=False),
    sa.Column("subject_name", sa.String(100), nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("result", sa.String(12), nullable=False, server_default="pending"),  # pending|accepted|refused
    sa.Column("field", sa.String(40)),
    sa.Column("code", sa.String(60)),
    sa.Index("ix_national_rows_student", "tenant", "student_user_id"),
)

# A student's report of an error in one of their rows, and the registrar's correction.
national_reports = sa.Table(
    "national_reports", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("batch_id", UUID(as_uuid=True), sa.ForeignKey("national_batches.id"), nullable=False),
    sa.Column("roster", sa.String(40), nullable=False),
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("message", sa.String(500), nullable=False),
    _at("reported_at"),
    sa.Column("status", sa.String(12), nullable=False, server_default="open"),   # open|corrected
    sa.Column("resolution", sa.String(500)),
    sa.Column("resolved_by", UUID(as_uuid=True)),
    _at("resolved_at", True),
    sa.Index("ix_national_reports_batch", "tenant", "batch_id"),
)
