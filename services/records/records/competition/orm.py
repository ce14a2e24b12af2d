"""In-school competitions (校內競賽, issue 8 item 8), by the organising unit: name, content,
result, and a proof file (the organising unit uploads it through the files service with an
item-proof ticket; `proof-uploaded` attaches it: records/itemproofs)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from ..itemkit import common_columns, proof_columns
from ..orm import metadata

competitions = sa.Table(
    "competitions", metadata, *common_columns(),
    sa.Column("name", sa.String(100), nullable=False),       # 競賽名稱
    sa.Column("content", sa.String(500), nullable=False),    # 項目與內容
    sa.Column("result", sa.String(50), nullable=False),      # 獎項 / 結果
    sa.Column("announced_on", sa.Date, nullable=False),      # 結果公布日期
    sa.Column("proof_file_id", UUID(as_uuid=True)),          # 證明文件 (files service)
    *proof_columns(),
    sa.Index("ix_competitions_student", "tenant", "student_id"),
)
