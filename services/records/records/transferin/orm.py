"""Items imported from another school's transfer package (issue 9 item 8, the receiving side):
kept read only, labelled 轉入 with the origin school code; append only (an import is never
edited) and guarded like every table of a student's data (sealed students)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from ..orm import metadata

# one row per package imported for a student: once per (student, package SHA-256)
transfer_imports = sa.Table(
    "transfer_imports", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("package_sha256", sa.String(64), nullable=False),     # of the zip as uploaded
    sa.Column("package_file_id", UUID(as_uuid=True), nullable=False),  # the zip, kept by files
    sa.Column("origin_school_code", sa.String(20), nullable=False),
    sa.Column("origin_tenant", sa.String(32)),
    sa.Column("exported_at", sa.String(40)),                        # as the manifest says it
    sa.Column("key_id", sa.String(200)),
    sa.Column("verified", sa.Boolean, nullable=False),              # signed by a key we know
    sa.Column("origin_student", JSONB, nullable=False),             # {student_no, name} at the origin
    sa.Column("imported_by", UUID(as_uuid=True), nullable=False),
    sa.Column("imported_by_username", sa.String(100)),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tenant", "student_id", "package_sha256", name="transfer_imports_package_key"),
)

# every item of an imported package, as the origin wrote it (records/<kind>.json of the format)
transfer_import_items = sa.Table(
    "transfer_import_items", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("import_id", UUID(as_uuid=True), sa.ForeignKey("transfer_imports.id"), nullable=False),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),               # course_grades, performances, ...
    sa.Column("school_year", sa.Integer),
    sa.Column("origin_school_code", sa.String(20), nullable=False),
    sa.Column("item", JSONB, nullable=False),
    sa.Column("package_sha256", sa.String(64), nullable=False),
    sa.Column("imported_by", UUID(as_uuid=True), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_transfer_import_items_student", "tenant", "student_id"),
)

# the evidence files of an import as files keeps them (a file of its own, its fingerprint)
transfer_import_files = sa.Table(
    "transfer_import_files", metadata,
    sa.Column("import_id", UUID(as_uuid=True), sa.ForeignKey("transfer_imports.id"), primary_key=True),
    sa.Column("file_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(255)),
    sa.Column("content_type", sa.String(100)),
    sa.Column("size", sa.BigInteger),
    sa.Index("ix_transfer_import_files_student", "tenant", "student_id"),
)
