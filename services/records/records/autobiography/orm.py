"""Autobiography and study plan (自傳、學習計畫, issue 8 item 10): the student writes, the counsellor
or the homeroom teacher returns it with comments or approves; every version is kept (a row per
version; a version is never changed except for its one review)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from ..orm import metadata

autobiography_versions = sa.Table(
    "autobiography_versions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("version_no", sa.Integer, nullable=False),
    sa.Column("autobiography", sa.String(3000)),             # 自傳
    sa.Column("career_plan", sa.String(1000), nullable=False),  # 生涯規劃（學習計畫）
    sa.Column("expectations", sa.String(1000), nullable=False), # 自我期許
    sa.Column("strengths", sa.String(1000), nullable=False),    # 優勢
    sa.Column("interests", sa.String(1000), nullable=False),    # 興趣
    sa.Column("written_by", UUID(as_uuid=True), nullable=False),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),          # submitted | returned | approved
    sa.Column("reviewed_by", UUID(as_uuid=True)),
    sa.Column("reviewed_by_username", sa.String(64)),
    sa.Column("reviewed_at", sa.DateTime(timezone=True)),
    sa.Column("review_comment", sa.String(1000)),
    sa.UniqueConstraint("tenant", "student_id", "version_no", name="autobiography_versions_once"),
    sa.CheckConstraint("status in ('submitted','returned','approved')", name="autobiography_versions_status"),
)
