"""Consultation records (課程諮詢紀錄, issue 8 item 4): date, time, place, content and advice, by
the course-consultation teacher. They stay at school: never exported (DOMAIN.md)."""
import sqlalchemy as sa

from ..itemkit import common_columns
from ..orm import metadata

consultations = sa.Table(
    "consultations", metadata, *common_columns(),
    sa.Column("held_on", sa.Date, nullable=False),          # 日期
    sa.Column("held_at", sa.String(11), nullable=False),    # 時間: HH:MM or HH:MM-HH:MM
    sa.Column("place", sa.String(50), nullable=False),      # 地點
    sa.Column("content", sa.String(500), nullable=False),   # 諮詢內容
    sa.Column("advice", sa.String(500), nullable=False),    # 建議
    sa.Index("ix_consultations_student", "tenant", "student_id"),
)
