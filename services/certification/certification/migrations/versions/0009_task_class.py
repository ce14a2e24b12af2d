"""tasks carry the student's class at upload time (oversight per class, the homeroom teacher's view)

Revision ID: 0009
Revises: 0008

Rows opened before this stay NULL (shown as 未分班); `outcome-uploaded` fills them from now on.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tasks", sa.Column("class_code", sa.String(32)))
    op.add_column("tasks", sa.Column("class_name", sa.String(100)))
    op.add_column("tasks", sa.Column("homeroom_user_id", UUID(as_uuid=True)))
    op.create_index("ix_tasks_class", "tasks", ["tenant", "class_code"])
    op.create_index("ix_tasks_homeroom", "tasks", ["tenant", "homeroom_user_id"])


def downgrade():
    op.drop_index("ix_tasks_homeroom", "tasks")
    op.drop_index("ix_tasks_class", "tasks")
    op.drop_column("tasks", "homeroom_user_id")
    op.drop_column("tasks", "class_name")
    op.drop_column("tasks", "class_code")
