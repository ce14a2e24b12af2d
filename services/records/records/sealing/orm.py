"""Who is sealed (copy fed by `sealed`); the database refuses writes to their rows
(migration 0011, portfolio_common.sealing)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common import sealing

from ..orm import metadata

sealed_students = sealing.table(metadata)

# Approved requests to read a sealed student (copy of `sealed-read-approved` from submission).
sealed_read_grants = sa.Table(
    "sealed_read_grants", metadata,
    sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("reader_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("approved_by", JSONB, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_sealed_read_grants_reader", "tenant", "student_id", "reader_user_id"),
)

# Append-only: every read of a sealed student's data, with the request that allowed it.
sealed_reads = sa.Table(
    "sealed_reads", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("reader_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("request_id", UUID(as_uuid=True), nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
)
