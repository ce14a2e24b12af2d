"""The event-fed copy of each tenant's terms (calendar-changed payloads, the newest version)."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ..orm import metadata

calendar_terms = sa.Table(
    "calendar_terms", metadata,
    sa.Column("tenant", sa.String(32), primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("term", JSONB, nullable=False),        # the whole calendar-changed payload (ISO dates)
    sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
