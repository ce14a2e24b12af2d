import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)

# One task per round of one uploaded course outcome, addressed to the section's teacher.
# Round 1 opens with the upload; a re-upload after a return (or a withdrawal) opens the next
# round on the same outcome. At most one round of an outcome is open (pending) at a time.
# status: pending | certified | returned | withdrawn (a certification taken back) |
#         superseded (a newer file arrived before a decision) | closed (e.g. transfer out)
tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("outcome_id", UUID(as_uuid=True), nullable=False),
    sa.Column("round", sa.SmallInteger, nullable=False, server_default="1"),
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
    sa.Column("content_type", sa.String(100)),
    sa.Column("sha256", sa.String(64), nullable=False),
    # the round's files by slot: {"document"|"media": {file_id, filename, content_type, sha256}}
    # (the outcome's document, media file, or both); file_id .. sha256 above name the principal
    # one (the document, else the media file). NULL on rounds from before slots: one file.
    sa.Column("files", JSONB),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("closed_reason", sa.String(200)),     # why a round closed without a decision
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    # the student's class when the upload ticket was issued (records' enrolment; NULL for rounds
    # opened before migration 0008 and for students without a class: 未分班), and that class's
    # homeroom teacher then, who sees the class's oversight figures
    sa.Column("class_code", sa.String(32)),
    sa.Column("class_name", sa.String(100)),
    sa.Column("homeroom_user_id", UUID(as_uuid=True)),
    sa.UniqueConstraint("outcome_id", "round", name="uq_tasks_outcome_round"),
    sa.Index("ix_tasks_queue", "tenant", "teacher_user_id", "status"),
    sa.Index("ix_tasks_student", "tenant", "student_id", "status"),
    sa.Index("ix_tasks_class", "tenant", "class_code"),
    sa.Index("ix_tasks_homeroom", "tenant", "homeroom_user_id"),
    # the database keeps one open round per outcome, whatever the code does
    sa.Index("uq_tasks_one_open_round", "outcome_id", unique=True,
             postgresql_where=sa.text("status = 'pending'")),
)

# Append-only attestations: who decided, for whom (proxy), when, what, why, on which file.
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    # one attestation per round: the database refuses a second, whatever the code does
    sa.Column("task_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id"), nullable=False, unique=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),  # certified | returned
    sa.Column("actor_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("acting_for", UUID(as_uuid=True)),
    sa.Column("reason_code", sa.String(40)),   # a code of the school's return_reasons list
    sa.Column("reason", sa.String(500)),       # the reason as shown: the list's label plus free text
    sa.Column("sha256", sa.String(64)),        # the fingerprint of the (principal) file decided on
    # {slot: sha256} of every file of the round decided on (NULL before slots: sha256 alone)
    sa.Column("fingerprints", JSONB),
    sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

# Append-only: a certification taken back within the window (the decision itself stays).
withdrawals = sa.Table(
    "withdrawals", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("task_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id"), nullable=False, unique=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("actor_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("acting_for", UUID(as_uuid=True)),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
)

# The school's list of reasons to return an outcome, per tenant, edited by the academic
# section. Entries are retired (active = false), never deleted, so old decisions keep meaning.
return_reasons = sa.Table(
    "return_reasons", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("needs_note", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_by", UUID(as_uuid=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

# Event-fed copy of each tenant's term calendar (`calendar-changed` from submission); a payload
# is applied only when its version is higher than the one held.
calendars = sa.Table(
    "calendars", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("certification_opens_on", sa.Date, nullable=False),
    sa.Column("certification_closes_on", sa.Date, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

# Reminder e-mails sent (issue 10 item 5): one row per reminder key, so the scheduled job sends
# each reminder once (a teacher once per term's closing window, a student once per returned round).
reminders_sent = sa.Table(
    "reminders_sent", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),          # teacher_window_closing | student_returned
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
