"""in-school competitions take a proof file (issue 8 item 8): the stored proof's fingerprint and
how many upload tickets were issued for it (each ticket is a new attempt at files)

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = [
    sa.Column("proof_filename", sa.String(255)),
    sa.Column("proof_content_type", sa.String(100)),
    sa.Column("proof_size", sa.BigInteger),
    sa.Column("proof_sha256", sa.String(64)),
    sa.Column("proof_uploaded_at", sa.DateTime(timezone=True)),
    sa.Column("proof_attempts", sa.SmallInteger, nullable=False, server_default="0"),
]


def upgrade():
    for col in COLUMNS:
        op.add_column("competitions", col)


def downgrade():
    for col in COLUMNS:
        op.drop_column("competitions", col.name)
