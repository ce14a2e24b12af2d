import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)


def _id():
    return sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _now(name):
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


classes = sa.Table(
    "classes", metadata, _id(),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("homeroom_user_id", UUID(as_uuid=True)),
    sa.UniqueConstraint("tenant", "school_year", "code"),
)

students = sa.Table(
    "students", metadata, _id(),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_no", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("class_id", UUID(as_uuid=True), sa.ForeignKey("classes.id")),
    sa.Column("seat_no", sa.Integer),
    sa.Column("national_id_enc", sa.LargeBinary, nullable=False),
    sa.Column("national_id_hash", sa.String(64), nullable=False),
    # student profile (基本資料, issue 8 item 1); codes are the national rosters' (DOMAIN.md)
    sa.Column("birth_date", sa.Date),
    sa.Column("gender", sa.String(2)),               # 性別代碼: 1 male, 2 female
    sa.Column("school_code", sa.String(10)),          # 學校代碼
    sa.Column("group_code", sa.String(10)),           # 群別代碼
    sa.Column("department_code", sa.String(10)),      # 科班學程別代碼
    sa.Column("class_type_code", sa.String(4)),       # 班別
    sa.Column("division_code", sa.String(4)),         # 部別代碼
    sa.Column("enrolment_route", sa.String(10)),      # 入學方式
    sa.Column("status", sa.String(20), nullable=False, server_default="enrolled"),  # 學籍狀態
    sa.Column("status_changed_on", sa.Date),          # 學籍異動日期
    # optimistic concurrency: a change names the version it was made from (stale_record)
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    _now("created_at"),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("tenant", "student_no"),
    sa.UniqueConstraint("tenant", "national_id_hash"),
    sa.UniqueConstraint("tenant", "user_id"),
)

sections = sa.Table(
    "sections", metadata, _id(),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("course_code", sa.String(40), nullable=False),
    sa.Column("subject_name", sa.String(100), nullable=False),
    sa.Column("class_code", sa.String(32), nullable=False),
    sa.Column("grade_level", sa.SmallInteger, nullable=False),
    sa.Column("credits", sa.SmallInteger),        # 修課學分 (日間部)
    sa.Column("class_hours", sa.SmallInteger),    # 修課節數 (進修部 counts class hours, not credits)
    sa.CheckConstraint("credits is not null or class_hours is not null", name="sections_credits_or_hours"),
    sa.Column("teacher_user_id", UUID(as_uuid=True), nullable=False),
    sa.UniqueConstraint("tenant", "school_year", "semester", "course_code", "class_code"),
    sa.Index("ix_sections_teacher", "tenant", "teacher_user_id"),   # a teacher's sections (0018)
)

enrolments = sa.Table(
    "enrolments", metadata,
    sa.Column("section_id", UUID(as_uuid=True), sa.ForeignKey("sections.id"), primary_key=True),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), primary_key=True),
    sa.Index("ix_enrolments_student", "student_id"),                # a student's sections (0018)
)

outcomes = sa.Table(
    "outcomes", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("section_id", UUID(as_uuid=True), sa.ForeignKey("sections.id"), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("file_id", UUID(as_uuid=True), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # uploaded | certified | returned
    sa.Column("certified_by", UUID(as_uuid=True)),
    sa.Column("acting_for", UUID(as_uuid=True)),
    sa.Column("certified_at", sa.DateTime(timezone=True)),
    sa.Column("return_reason", sa.String(500)),
    sa.Column("selected_locked", sa.Boolean, nullable=False, server_default=sa.false()),
    # 1 for the first upload, +1 for each re-upload stored after a return (shown to the student)
    sa.Column("upload_round", sa.SmallInteger, nullable=False, server_default="1"),
    # upload tickets issued for this outcome: the ticket's `attempt` (files keys an upload by
    # outcome and attempt, so a re-upload of the same outcome is a new upload there)
    sa.Column("ticket_attempts", sa.SmallInteger, nullable=False, server_default="1"),
    # the outcome's files by slot (DOMAIN.md: a 簡述 plus a document, a media file, or both):
    # {"document"|"media": {file_id, filename, content_type, size, sha256, uploaded_at}}; the
    # single-file columns above name the principal one (the document, else the media file).
    # NULL on outcomes stored before slots: their one file, in the slot of its content type.
    sa.Column("files", JSONB),
    _now("uploaded_at"),
    sa.Index("ix_outcomes_student_term", "tenant", "student_id", "school_year", "semester"),
)

# A slot of the semester quota held by an issued upload ticket until its outcome arrives or
# the ticket expires, so parallel uploads cannot exceed the limit.
upload_reservations = sa.Table(
    "upload_reservations", metadata,
    sa.Column("outcome_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    # the client's key for one upload (kept across its retries): the same key gets the same
    # ticket back instead of a second slot, even when a reply was lost and the call redelivered
    sa.Column("upload_key", sa.String(80)),
    sa.Column("used_at", sa.DateTime(timezone=True)),  # its outcome has arrived
    # what the key was for: a reuse with another section (so another term) or another 簡述 is
    # refused, so a key cannot carry a slot of one term into another or outlive its quota check
    # (NULL only on reservations made before this was recorded; bound on their first reuse)
    sa.Column("section_id", UUID(as_uuid=True), sa.ForeignKey("sections.id")),
    sa.Column("description", sa.String(100)),
    sa.UniqueConstraint("student_id", "upload_key", name="upload_reservations_student_key"),
)

# Append-only, hash-chained history of every change to a student's record: who, when, before,
# after (records/history.py states the chain and its canonical serialisation).
record_changes = sa.Table(
    "record_changes", metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("chain_seq", sa.BigInteger, nullable=False),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("actor_user_id", UUID(as_uuid=True)),
    sa.Column("actor_username", sa.String(64)),
    sa.Column("acting_for", UUID(as_uuid=True)),
    sa.Column("event_id", UUID(as_uuid=True)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("before", JSONB),
    sa.Column("after", JSONB),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("tenant", "chain_seq", name="record_changes_chain"),
    sa.Index("ix_record_changes_student", "tenant", "student_id"),
    sa.Index("ix_record_changes_entity", "tenant", "entity", "entity_id"),
)

# Tables the service's database role may DELETE from (portfolio_common.migrate): an upload
# reservation is released when its upload is abandoned.
DELETES_FROM = ("upload_reservations",)


def __getattr__(name):
    """records.orm.<table> for the tables the item-kind packages define too."""
    if name in metadata.tables:
        return metadata.tables[name]
    raise AttributeError(name)


from .areas import load_tables  # noqa: E402 - the areas' tables join this metadata

load_tables()
