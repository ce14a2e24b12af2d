import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

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
    sa.Column("subject_id", UUID(as_uuid=True), nullable=False, unique=True),  # outcome_id
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("version_id", sa.String(200)),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),         # stored | sealed
    sa.Column("owner_user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("student_id", UUID(as_uuid=True), nullable=False),
    sa.Column("reviewer_user_id", UUID(as_uuid=True)),         # the certifying teacher
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
