"""Attendance (出缺勤, issue 8 item 6), by the discipline section (生輔組): per student, school
year and semester, the periods (節數) of each national absence code (假別代碼 01-12)."""
import sqlalchemy as sa

from ..itemkit import common_columns
from ..orm import metadata

attendance_counts = sa.Table(
    "attendance_counts", metadata, *common_columns(),
    sa.Column("absence_code", sa.String(2), nullable=False),   # 假別代碼, DOMAIN.md 缺勤紀錄名冊
    sa.Column("periods", sa.Integer, nullable=False),          # 節數
    sa.CheckConstraint("absence_code in ('01','02','03','04','05','06','07','08','09','10','11','12')",
                       name="attendance_counts_code"),
    sa.CheckConstraint("periods >= 0", name="attendance_counts_periods"),
    sa.Index("ix_attendance_counts_student", "tenant", "student_id"),
    # one live item per natural key (itemkit: the same key again is the same item)
    sa.Index("attendance_counts_once", "tenant", "student_id", "school_year", "semester", "absence_code",
             unique=True, postgresql_where=sa.text("voided_at is null")),
)
