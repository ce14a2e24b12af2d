"""Career-plan assessments (學群探索與就業規劃, issue 8 item 5), by the guidance counsellor."""
import sqlalchemy as sa

from ..itemkit import common_columns
from ..orm import metadata

career_assessments = sa.Table(
    "career_assessments", metadata, *common_columns(),
    sa.Column("assessed_on", sa.Date, nullable=False),            # 評估日期
    sa.Column("instrument", sa.String(50)),                       # 評量工具 (e.g. 興趣量表)
    sa.Column("suggested_groups", sa.String(100), nullable=False),  # 建議學群
    sa.Column("career_plan", sa.String(500), nullable=False),     # 升學與就業規劃建議
    sa.Index("ix_career_assessments_student", "tenant", "student_id"),
)
