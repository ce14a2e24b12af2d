import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)

# The fingerprint of every stored object is kept here, apart from the object itself, so a
# lost or restored bucket can be checked and re-uploads matched (DOMAIN.md, 2021 incident).
stored_files = sa.Table(
    "stored_files", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),          # outcome | performance
    sa.Column("subject_id", UUID(as_uuid=True), nullable=False),  # outcome_id
    # the ticket's attempt: 1, then 2, 3, ... for a returned outcome uploaded again
    sa.Column("attempt", sa.SmallInteger, nullable=False, server_default="1"),
    # an outcome's slot: document | media (an outcome holds one file of each); NULL for a performance
    sa.Column("slot", sa.String(10)),
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("version_id", sa.String(200)),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    # stored | sealed | purged (a transfer package's bytes deleted after TRANSFER_PACKAGE_KEEP_DAYS)
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("owner_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("reviewer_user_id", UUID(as_uuid=True)),         # the certifying teacher
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.UniqueConstraint("subject_id", "attempt", name="stored_files_subject_attempt_key"),
)

# One row per upload ticket's subject (an outcome or a performance): the upload in progress or
# how it ended. Kept in the database, not in a replica's memory, so any replica continues a
# resumable upload, and a ticket is used once (stored, refused, expired or cancelled).
uploads = sa.Table(
    "uploads", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
    sa.Column("attempt", sa.SmallInteger, nullable=False, server_default="1"),  # the ticket's (re-upload)
    sa.Column("slot", sa.String(10)),   # the ticket's slot of an outcome (None: decided by content)
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("semester", sa.SmallInteger),
    sa.Column("claims", JSONB, nullable=False),                 # the ticket, for the event
    sa.Column("filename", sa.String(255)),
    sa.Column("resumable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("length", sa.BigInteger),                         # Upload-Length
    sa.Column("offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("segments", JSONB, nullable=False, server_default="[]"),  # [{key, version_id, offset, size}]
    sa.Column("type_name", sa.String(10)),
    sa.Column("state", sa.String(20), nullable=False),         # receiving | stored | refused | expired | cancelled
    sa.Column("code", sa.String(40)),                          # why it ended, when refused
    sa.Column("file_id", UUID(as_uuid=True)),
    sa.Column("sha256", sa.String(64)),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.UniqueConstraint("subject_id", "attempt", name="uploads_subject_attempt_key"),
    sa.Index("ix_uploads_receiving_expiry", "expires_at", postgresql_where=sa.text("state = 'receiving'")),
)

# A student's locked selection of a school year as files last applied it (selection-locked):
# the lock version; the object versions held for it are the locked_files rows of that version
# (earlier versions' rows stay as history: the runtime role deletes nothing).
locked_selections = sa.Table(
    "locked_selections", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("student_user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("lock_version", sa.Integer, nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

locked_files = sa.Table(
    "locked_files", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("student_user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("lock_version", sa.Integer, primary_key=True),
    sa.Column("file_id", UUID(as_uuid=True), sa.ForeignKey("stored_files.id"), primary_key=True),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("held_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Index("ix_locked_files_file", "file_id"),
)

# A package another service built for one person to download (submission: the national package
# and rosters, a transfer package; issue 9 item 9): kept in S3 under `downloads/<id>` of the
# tenant's bucket for a day, then deleted by the sweeper (state `expired`). Who asked is the
# only one who gets a download ticket for it.
package_downloads = sa.Table(
    "package_downloads", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(40), nullable=False),       # national-package | national-roster | transfer-package
    sa.Column("subject", sa.String(200), nullable=False),      # what it is of: "115-1 package", a student id
    sa.Column("requested_by", UUID(as_uuid=True), nullable=False),   # the user who asked for it
    sa.Column("producer", sa.String(40), nullable=False),      # the service that built it (its caller role)
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("version_id", sa.String(200)),
    sa.Column("state", sa.String(20), nullable=False),         # stored | expired
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expired_at", sa.DateTime(timezone=True)),
    sa.Index("ix_package_downloads_stored_expiry", "expires_at", postgresql_where=sa.text("state = 'stored'")),
)

# Every download of a package (append-only): who, when, from where. `ticket_id` is the ticket's
# own id, so a ticket serves one download only (a replay hits the primary key).
package_download_log = sa.Table(
    "package_download_log", metadata,
    sa.Column("ticket_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("download_id", UUID(as_uuid=True), sa.ForeignKey("package_downloads.id"), nullable=False),
    sa.Column("tenant", sa.String(32), nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("remote_addr", sa.String(64)),
    sa.Column("range", sa.String(100)),
    sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Index("ix_package_download_log_download", "download_id"),
)
