"""Cadres, clubs, public service and volunteering (幹部、社團、公共服務、志工, issue 8 item 7), by
the activities section (訓育組; 進修部: the student affairs section), per semester."""
import sqlalchemy as sa

from ..itemkit import common_columns
from ..orm import metadata

activities = sa.Table(
    "activities", metadata, *common_columns(),
    sa.Column("category", sa.String(12), nullable=False),   # cadre | club | service | volunteer
    sa.Column("name", sa.String(50), nullable=False),       # 單位名稱 / 社團名稱 / 服務名稱
    sa.Column("position", sa.String(30)),                   # 擔任職務 (cadre, club)
    sa.Column("hours", sa.Integer),                         # 時數 (service, volunteering)
    sa.Column("started_on", sa.Date),
    sa.Column("ended_on", sa.Date),
    sa.Column("description", sa.String(100)),               # 內容簡述
    sa.CheckConstraint("category in ('cadre','club','service','volunteer')", name="activities_category"),
    sa.Index("ix_activities_student", "tenant", "student_id"),
    # one live item per natural key (itemkit: the same key again is the same item)
    sa.Index("activities_once", "tenant", "student_id", "school_year", "semester", "category", "name",
             unique=True, postgresql_where=sa.text("voided_at is null")),
)
