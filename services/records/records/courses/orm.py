"""Course records (修課紀錄, issue 8 item 3): a semester grade per enrolment, with its make-up (補考)
result and pass flags, and for 進修部 sections (counted in class hours, 節數) the yearly grade;
the columns of the national 學生成績名冊 (DOMAIN.md). Sections and enrolments live in
records/orm.py; `sections.class_hours` (ce) is added beside `credits` (day)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from ..itemkit import common_columns
from ..orm import metadata

course_grades = sa.Table(
    "course_grades", metadata, *common_columns(),
    sa.Column("section_id", UUID(as_uuid=True), sa.ForeignKey("sections.id"), nullable=False),
    sa.Column("course_code", sa.String(40), nullable=False),      # 課程代碼 (the section's)
    sa.Column("semester_grade", sa.SmallInteger, nullable=False),  # 學期學業成績, 0-100 integer
    sa.Column("passed", sa.Boolean, nullable=False),               # 成績及格
    sa.Column("makeup_grade", sa.SmallInteger),                    # 補考成績
    sa.Column("makeup_passed", sa.Boolean),                        # 補考及格
    sa.Column("credit_counted", sa.Boolean, nullable=False),       # 是否採計學分 (ce: 學時)
    sa.Column("pass_exception", sa.Boolean, nullable=False, server_default=sa.false()),  # 校定例外
    sa.Column("remark", sa.String(200)),                           # 質性文字描述
    sa.Column("yearly_grade", sa.SmallInteger),                    # 學年學業成績 (ce, semester 2)
    sa.Column("yearly_passed", sa.Boolean),                        # 學年及格 (ce)
    sa.CheckConstraint("semester_grade between 0 and 100", name="course_grades_grade"),
    sa.CheckConstraint("makeup_grade is null or makeup_grade between 0 and 100", name="course_grades_makeup"),
    sa.CheckConstraint("yearly_grade is null or yearly_grade between 0 and 100", name="course_grades_yearly"),
    sa.Index("ix_course_grades_student", "tenant", "student_id"),
    sa.Index("ix_course_grades_section", "section_id"),
    # one live grade per enrolment (itemkit: the same key again is the same item)
    sa.Index("course_grades_once", "tenant", "student_id", "section_id", unique=True,
             postgresql_where=sa.text("voided_at is null")),
)
