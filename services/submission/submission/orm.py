import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)

# Copy of certified outcomes, fed by `certified`: what a student may select.
certified_outcomes = sa.Table(
    "certified_outcomes", metadata,
    sa.Column("outcome_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("course_code", sa.String(40), nullable=False),
    sa.Column("subject_name", sa.String(100), nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),    # the principal file's (the document, else the media)
    # {slot: sha256} of every file the certification attests (document, media or both); NULL on
    # copies from before outcomes had two slots: {"document": sha256}
    sa.Column("fingerprints", JSONB),
    sa.Column("certified_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_certified_student_year", "tenant", "student_user_id", "school_year"),
)

# What each student's uploaded outcome is on its way to certification (fed by outcome-uploaded
# and certification-returned): the student sees why an outcome is not selectable yet, the
# registrar what is still waiting. Certified outcomes are in certified_outcomes.
outcome_states = sa.Table(
    "outcome_states", metadata,
    sa.Column("outcome_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("course_code", sa.String(40), nullable=False),
    sa.Column("subject_name", sa.String(100), nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),   # uploaded | returned
    sa.Column("reason", sa.String(500)),                  # the teacher's, when returned
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state in ('uploaded', 'returned')", name="outcome_states_state"),
    sa.Index("ix_outcome_states_student_year", "tenant", "student_user_id", "school_year"),
)

# Copy of performances with their proof (fed by performance-uploaded): only those the student
# entered (entered_by = student) are selectable and count toward the year's limit.
performance_copies = sa.Table(
    "performance_copies", metadata,
    sa.Column("performance_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("performance_kind", sa.String(32), nullable=False),
    sa.Column("entered_by", sa.String(16), nullable=False),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("file_id", UUID(as_uuid=True), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_performance_copies_student_year", "tenant", "student_user_id", "school_year"),
)

# A student's current selection of a school year: one row, updated in place (never deleted),
# `version` counts its changes; every change is in selection_changes.
student_selections = sa.Table(
    "student_selections", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("student_user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("outcome_ids", JSONB, nullable=False),       # [uuid str], in the order chosen
    sa.Column("performance_ids", JSONB, nullable=False),   # [uuid str]
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Every change of a student's selection, append-only: who, when, before, after.
selection_changes = sa.Table(
    "selection_changes", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("before", JSONB),                          # {outcome_ids, performance_ids}; null: the first
    sa.Column("after", JSONB, nullable=False),
    sa.UniqueConstraint("tenant", "student_user_id", "school_year", "version", name="selection_changes_version"),
)

# The registrar's lock of a tenant's school year: after it, selections are frozen.
selection_locks = sa.Table(
    "selection_locks", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("locked_by", UUID(as_uuid=True), nullable=False),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
)

# The held copy of each student's locked selection: what will be submitted. Each lock of a
# student (a re-lock after an unlock too) keeps a new version; the newest is what counts.
locked_selections = sa.Table(
    "locked_selections", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("student_user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, server_default=sa.text("1")),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    # [{outcome_id, course_code, subject_name, description, sha256, fingerprints: {slot: sha256}}]
    sa.Column("outcomes", JSONB, nullable=False),
    # [{performance_id, performance_kind, description, file_id, sha256}]
    sa.Column("performances", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
)

# A student's consent to release (同意釋出), append-only: each give or revoke with the exact
# wording shown; the newest row is the current state (selection/consent.py).
release_consents = sa.Table(
    "release_consents", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),       # given | revoked
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("by_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("wording_version", sa.String(32)),
    sa.Column("wording", sa.Text),                            # the full text shown, when given
    sa.CheckConstraint("action in ('given', 'revoked')", name="release_consents_action"),
    sa.Index("ix_release_consents_student_year", "tenant", "student_user_id", "school_year", "id"),
)

# Each student's lock of a school year (selection/lock.py): present and `locked` = frozen;
# an unlock for a correction sets `unlocked` (the row stays), a re-lock bumps `version`.
student_locks = sa.Table(
    "student_locks", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("student_user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),         # locked | unlocked
    sa.Column("version", sa.Integer, nullable=False),          # the held copy's version
    sa.Column("consent", sa.Boolean, nullable=False),          # consent held at the lock
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state in ('locked', 'unlocked')", name="student_locks_state"),
)

# Every lock and unlock, append-only: who, when, which students, the scope, the reason.
lock_events = sa.Table(
    "lock_events", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),        # lock | unlock
    sa.Column("scope", sa.String(16), nullable=False),         # tenant | grade | class | student
    sa.Column("scope_label", sa.String(100), nullable=False),
    sa.Column("student_user_ids", JSONB, nullable=False),
    sa.Column("by_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("by_username", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.String(500)),                       # required for an unlock
    sa.CheckConstraint("action in ('lock', 'unlock')", name="lock_events_action"),
)

# The school calendar (submission owns it, ARCHITECTURE.md "calendar"): one row per tenant's
# term, its windows and national deadline; `version` counts its changes (calendar-changed).
calendar_terms = sa.Table(
    "calendar_terms", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("upload_opens_on", sa.Date, nullable=False),
    sa.Column("upload_closes_on", sa.Date, nullable=False),
    sa.Column("certification_opens_on", sa.Date, nullable=False),
    sa.Column("certification_closes_on", sa.Date, nullable=False),
    sa.Column("selection_opens_on", sa.Date, nullable=False),
    sa.Column("selection_closes_on", sa.Date, nullable=False),
    sa.Column("national_deadline", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("semester in (1, 2)", name="calendar_terms_semester"),
    sa.CheckConstraint("ends_on >= starts_on", name="calendar_terms_days"),
)

# Limits of a tenant's school year (uploads a semester, selections a year).
calendar_limits = sa.Table(
    "calendar_limits", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("outcome_uploads_per_semester", sa.Integer, nullable=False),
    sa.Column("outcomes_selected_per_year", sa.Integer, nullable=False),
    sa.Column("performances_selected_per_year", sa.Integer, nullable=False),
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Every change of a term (its limits included), append-only: who, when, before, after.
calendar_changes = sa.Table(
    "calendar_changes", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("changed_by_username", sa.String(100), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("before", JSONB),            # null when the term was created
    sa.Column("after", JSONB, nullable=False),
    sa.UniqueConstraint("tenant", "school_year", "semester", "version", name="calendar_changes_version"),
)

# Tables the service's database role may DELETE from (portfolio_common.migrate): a withdrawn
# certification's copy leaves certified_outcomes; a selection is changed in place, never deleted.
DELETES_FROM = ("certified_outcomes",)

# The national side's tables (submission/national/orm.py) share this metadata.
from .national.orm import national_batches, national_reports, national_rows  # noqa: E402,F401
