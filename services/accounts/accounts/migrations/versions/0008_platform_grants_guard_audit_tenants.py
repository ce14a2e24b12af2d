"""platform grants, sign-in guard, audit rows with the tenants of the account concerned

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platform_grants",
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(40), primary_key=True))
    op.create_table(
        "sign_in_guard",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_audited_at", sa.DateTime(timezone=True)))
    # A new column on an append-only table: its rows are not updated (the trigger would refuse);
    # older rows keep their single `tenant` and readers match either.
    op.add_column("access_audit", sa.Column("tenants", ARRAY(sa.String(32)), nullable=False,
                                            server_default="{}"))


def downgrade():
    op.drop_column("access_audit", "tenants")
    op.drop_table("sign_in_guard")
    op.drop_table("platform_grants")
