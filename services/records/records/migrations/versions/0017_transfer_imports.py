"""transfer imports (issue 9 item 8, the receiving side): the packages imported for a student,
their items (read only, labelled with the origin school) and evidence files; append only and
guarded for sealed students

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common import append_only, sealing

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ("transfer_imports", "transfer_import_items", "transfer_import_files")


def upgrade():
    op.create_table(
        "transfer_imports",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("package_file_id", UUID(as_uuid=True), nullable=False),
        sa.Column("origin_school_code", sa.String(20), nullable=False),
        sa.Column("origin_tenant", sa.String(32)),
        sa.Column("exported_at", sa.String(40)),
        sa.Column("key_id", sa.String(200)),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("origin_student", JSONB, nullable=False),
        sa.Column("imported_by", UUID(as_uuid=True), nullable=False),
        sa.Column("imported_by_username", sa.String(100)),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "student_id", "package_sha256", name="transfer_imports_package_key"),
    )
    op.create_table(
        "transfer_import_items",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("import_id", UUID(as_uuid=True), sa.ForeignKey("transfer_imports.id"), nullable=False),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("school_year", sa.Integer),
        sa.Column("origin_school_code", sa.String(20), nullable=False),
        sa.Column("item", JSONB, nullable=False),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("imported_by", UUID(as_uuid=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_transfer_import_items_student", "transfer_import_items", ["tenant", "student_id"])
    op.create_table(
        "transfer_import_files",
        sa.Column("import_id", UUID(as_uuid=True), sa.ForeignKey("transfer_imports.id"), primary_key=True),
        sa.Column("file_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("content_type", sa.String(100)),
        sa.Column("size", sa.BigInteger),
    )
    op.create_index("ix_transfer_import_files_student", "transfer_import_files", ["tenant", "student_id"])
    sealing.protect(op, {t: "student_id" for t in TABLES})
    for t in TABLES:
        append_only.enable(op, t)


def downgrade():
    for t in TABLES:
        append_only.disable(op, t)
    sealing.unprotect(op, TABLES)
    for t in reversed(TABLES):
        op.drop_table(t)
