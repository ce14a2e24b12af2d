import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)

# One task per uploaded course outcome, addressed to the section's teacher.
tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("outcome_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("file_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("section_id", UUID(as_uuid=True), nullable=False),
    sa.Column("teacher_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("course_code", sa.String(40), nullable=False),
    sa.Column("subject_name", sa.String(100), nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Index("ix_tasks_queue", "tenant", "teacher_user_id", "status"),
)

# Append-only attestations: who decided, for whom (proxy), when, what, why.
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    # one attestation per task: the database refuses a second, whatever the code does
    sa.Column("task_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id"), nullable=False, unique=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),  # certified | returned
    sa.Column("actor_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("acting_for", UUID(as_uuid=True)),
    sa.Column("reason", sa.String(500)),
    sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
