"""indexes for the lookups every teacher's and student's page makes: a teacher's sections
(list_my_students, list_my_sections: sections by tenant and teacher) and a student's enrolments
(enrolments by student; the primary key leads with the section). Both were sequential scans, of
~500 sections and ~20,000 enrolments in a school of 2,000.

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_sections_teacher", "sections", ["tenant", "teacher_user_id"])
    op.create_index("ix_enrolments_student", "enrolments", ["student_id"])


def downgrade():
    op.drop_index("ix_enrolments_student", table_name="enrolments")
    op.drop_index("ix_sections_teacher", table_name="sections")
