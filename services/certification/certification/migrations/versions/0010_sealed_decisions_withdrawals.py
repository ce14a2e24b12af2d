"""sealed students: the database also refuses writes to a sealed student's decisions (which carry
the return reasons) and withdrawals, written on their own (a hand-written fix, a later code path)

Revision ID: 0010
Revises: 0009

decisions and withdrawals name their task, not the student: the trigger looks the task's
student up and refuses (SQLSTATE PS001, as portfolio_common.sealing's trigger) when that
student is sealed in the row's tenant. The school's return_reasons list concerns no student
and stays writable.
"""
from alembic import op

from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE, TABLE

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ("decisions", "withdrawals")

FUNCTION = f"""
CREATE OR REPLACE FUNCTION refuse_write_to_sealed_task() RETURNS trigger AS $$
DECLARE
  r jsonb;
  hit boolean := false;
BEGIN
  FOREACH r IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
                           CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
    CONTINUE WHEN r IS NULL OR r ->> 'task_id' IS NULL;
    SELECT EXISTS (SELECT 1 FROM tasks t JOIN {TABLE} s ON s.tenant = t.tenant AND s.student_id = t.student_id
                   WHERE t.id = (r ->> 'task_id')::uuid AND t.tenant = r ->> 'tenant') INTO hit;
    IF hit THEN
      RAISE EXCEPTION 'the student of task % is sealed: % is read-only for this student', r ->> 'task_id', TG_TABLE_NAME
        USING ERRCODE = '{STUDENT_SEALED_SQLSTATE}';
    END IF;
  END LOOP;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""


def upgrade():
    op.execute(FUNCTION)
    for name in TABLES:
        op.execute(f"CREATE TRIGGER {name}_sealed_student BEFORE INSERT OR UPDATE OR DELETE ON {name} "
                   f"FOR EACH ROW EXECUTE FUNCTION refuse_write_to_sealed_task()")


def downgrade():
    for name in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}_sealed_student ON {name}")
    op.execute("DROP FUNCTION IF EXISTS refuse_write_to_sealed_task()")
