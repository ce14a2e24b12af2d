"""Sealed students (封存, issue 9 item 7; DOMAIN.md "Sealing: five years after the student applies
to college"): the database itself refuses every write to a sealed student's rows.

The platform's meaning of sealing: no writes, reads only through an audited request. Each
service keeps its own `sealed_students` table (fed by the `sealed` event; submission writes it
when it seals) and, in an Alembic revision, installs one trigger per student-data table:

    from portfolio_common import sealing
    def upgrade():
        sealing.create_table(op)                       # once per service
        sealing.protect(op, {"students": "id", "outcomes": "student_id"})

The trigger (BEFORE INSERT OR UPDATE OR DELETE, per row) looks the row's student up in
`sealed_students` of the row's own tenant and raises SQLSTATE `PS001` (STUDENT_SEALED_SQLSTATE)
when it is sealed, whichever role writes (the app role, a hand-written fix) and whatever the
code does. Matching on (tenant, student) means a seal recorded under one tenant can never freeze
another tenant's rows. `protect` takes the row's student column; the column of
`sealed_students` it is compared with is `student_id` unless given as (column, "student_user_id")
(submission's selections are keyed by the student's user id).

Services map the SQLSTATE to the error `student_sealed` (409) with `raise_if_sealed(exc)` or
the `refusing_sealed` context manager (permissions.allowed does it for every RPC).
"""
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from .errors import Conflict

STUDENT_SEALED_SQLSTATE = "PS001"
TABLE = "sealed_students"
SEALING_YEARS = 5   # DOMAIN.md: sealing five years after the student applies to college


class StudentSealed(Conflict):
    code = "student_sealed"


def table(metadata) -> sa.Table:
    """The service's copy of who is sealed (tenant, student_id, student_user_id, sealed_at)."""
    return sa.Table(
        TABLE, metadata,
        sa.Column("tenant", sa.String(32), primary_key=True),
        sa.Column("student_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("student_user_id", UUID(as_uuid=True)),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_sealed_students_user", "tenant", "student_user_id"),
    )


FUNCTION = f"""
CREATE OR REPLACE FUNCTION refuse_write_to_sealed_student() RETURNS trigger AS $$
DECLARE
  row_col text := TG_ARGV[0];
  sealed_col text := TG_ARGV[1];
  r jsonb;
  hit boolean := false;
BEGIN
  FOREACH r IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
                           CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
    CONTINUE WHEN r IS NULL OR r ->> row_col IS NULL;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE tenant = $1 AND %I = $2::uuid)', sealed_col)
      INTO hit USING r ->> 'tenant', r ->> row_col;
    IF hit THEN
      RAISE EXCEPTION 'student % is sealed: % is read-only for this student', r ->> row_col, TG_TABLE_NAME
        USING ERRCODE = '{STUDENT_SEALED_SQLSTATE}';
    END IF;
  END LOOP;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

# The seal itself cannot be lifted by the application: no UPDATE or DELETE of sealed_students.
SEAL_IS_FINAL = f"""
CREATE OR REPLACE FUNCTION refuse_unsealing() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'a seal is final' USING ERRCODE = '{STUDENT_SEALED_SQLSTATE}';
END $$ LANGUAGE plpgsql;
"""


def create_table(op):
    """Alembic: the service's sealed_students table, final once written."""
    op.create_table(
        TABLE,
        sa.Column("tenant", sa.String(32), primary_key=True),
        sa.Column("student_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("student_user_id", UUID(as_uuid=True)),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sealed_students_user", TABLE, ["tenant", "student_user_id"])
    op.execute(SEAL_IS_FINAL)
    op.execute(f"CREATE TRIGGER {TABLE}_final BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_unsealing()")


def drop_table(op):
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _pairs(tables: dict):
    for name, col in tables.items():
        row_col, sealed_col = (col, "student_id") if isinstance(col, str) else col
        assert sealed_col in ("student_id", "student_user_id")
        yield name, row_col, sealed_col


def protect(op, tables: dict):
    """Alembic: refuse writes to a sealed student's rows of each table.

    tables: {table: student column} or {table: (column, "student_user_id")}; every table needs
    a `tenant` column. Adding a table later is one line in a new revision.
    """
    op.execute(FUNCTION)
    for name, row_col, sealed_col in _pairs(tables):
        op.execute(f"CREATE TRIGGER {name}_sealed_student BEFORE INSERT OR UPDATE OR DELETE ON {name} "
                   f"FOR EACH ROW EXECUTE FUNCTION refuse_write_to_sealed_student('{row_col}', '{sealed_col}')")


def unprotect(op, tables):
    for name in tables:
        op.execute(f"DROP TRIGGER IF EXISTS {name}_sealed_student ON {name}")


def is_sealed_error(exc) -> bool:
    """Whether a database error is the sealed-student trigger's refusal."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "pgcode", None) == STUDENT_SEALED_SQLSTATE


def raise_if_sealed(exc):
    """Re-raise a sealed-student refusal from the database as StudentSealed (409)."""
    if is_sealed_error(exc):
        raise StudentSealed("this student's portfolio is sealed (five years after the college "
                            "application): it can no longer be changed") from exc


@contextmanager
def refusing_sealed():
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise_if_sealed(exc)
        raise
