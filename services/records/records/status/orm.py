"""Status history (學籍異動, issue 8 item 2): repeat, reinstatement, transfers, visiting study."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from ..orm import metadata

CHANGES = ("repeat", "reinstatement", "transfer_in", "transfer_out", "department_transfer", "visiting_study")

status_changes = sa.Table(
    "status_changes", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("change", sa.String(30), nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    # origin school (transfer in), host school (visiting study, transfer out); null for a repeat
    sa.Column("other_school_code", sa.String(10)),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("note", sa.String(200)),
    # where the item came from: "form", "import" (and later kinds, e.g. a transfer's origin school)
    sa.Column("recorded_via", sa.String(20), nullable=False),
    sa.Column("recorded_by", UUID(as_uuid=True)),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    # a mistaken item is voided, never deleted: it stays in the list, marked, with who and why
    sa.Column("voided_at", sa.DateTime(timezone=True)),
    sa.Column("voided_by", UUID(as_uuid=True)),
    sa.Column("void_reason", sa.String(200)),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("tenant", "student_id", "change", "effective_on", name="status_changes_once"),
    sa.CheckConstraint("change in ('repeat','reinstatement','transfer_in','transfer_out',"
                       "'department_transfer','visiting_study')", name="status_changes_change"),
    sa.Index("ix_status_changes_student", "tenant", "student_id"),
)
