import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from portfolio_common.db import messaging_tables

metadata = sa.MetaData()
outbox, processed_events = messaging_tables(metadata)

# A tenant is (school code, division): data, not code. Adding a school adds rows.
tenants = sa.Table(
    "tenants", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("school_code", sa.String(10), nullable=False),
    sa.Column("division", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),  # NULL: signs in through SSO only
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    # where reminders are sent (certification asks through accounts.user_emails); NULL: none
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

role_grants = sa.Table(
    "role_grants", metadata,
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("tenant", sa.String(32), sa.ForeignKey("tenants.code"), primary_key=True),
    sa.Column("role", sa.String(40), primary_key=True),
)

# Platform grants: roles of the platform itself (domain.PLATFORM_ROLES), tied to no tenant and
# held by no school division. Only a platform-level caller sets them.
platform_grants = sa.Table(
    "platform_grants", metadata,
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("role", sa.String(40), primary_key=True),
)

# Sign-in guard: failures counted per key (username from a source, a source, a username),
# decaying after the window, with the lock they caused (domain.guard_keys, domain.Limit).
# Keyed by the username as typed, so an unknown username locks like a known one.
sign_in_guard = sa.Table(
    "sign_in_guard", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("last_audited_at", sa.DateTime(timezone=True)),
)

# External identities (a school's OpenID Connect single sign-on, e.g. the education cloud
# account): (provider, subject) verified by the gateway's callback -> one of our users.
identities = sa.Table(
    "identities", metadata,
    sa.Column("provider", sa.String(40), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

# Server-side sessions: the portal cookie and API bearer tokens carry only a random token whose
# SHA-256 is stored here, so signing out (or an admin's reset) really ends a session.
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # portal | api
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("remote_addr", sa.String(64)),
    sa.Column("user_agent", sa.String(200)),
    sa.Index("ix_sessions_user", "user_id"),
)

# 代理人: while a delegation holds, the proxy may certify the teacher's sections; every
# certification records who acted for whom (certification service).
proxy_delegations = sa.Table(
    "proxy_delegations", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
    sa.Column("tenant", sa.String(32), sa.ForeignKey("tenants.code"), nullable=False),
    sa.Column("teacher_user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("proxy_user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("created_by", UUID(as_uuid=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("ends_on >= starts_on", name="proxy_period_ordered"),
    sa.CheckConstraint("teacher_user_id <> proxy_user_id", name="proxy_not_self"),
)

# Append-only: sign-ins and their failures (who, when, from where, what).
access_audit = sa.Table(
    "access_audit", metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("user_id", UUID(as_uuid=True)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("tenant", sa.String(32)),          # set for refusals inside a tenant
    # the tenants of the account concerned: each tenant's audit readers see the rows that
    # name their tenant; rows naming none (unknown usernames, sources) are platform-level
    sa.Column("tenants", ARRAY(sa.String(32)), nullable=False, server_default="{}"),
    sa.Column("event_id", UUID(as_uuid=True)),   # set when reported by another service
    sa.Column("remote_addr", sa.String(64)),
    sa.Column("detail", sa.String(500)),
)

# Tables the service's database role may DELETE from (portfolio_common.migrate): role and
# platform grants are replaced when an import changes a person's roles; a success or an admin's
# reset clears a username's sign-in guard counts.
DELETES_FROM = ("role_grants", "platform_grants", "sign_in_guard")
