"""SQL for Alembic revisions: make a table append-only in the database itself.

The application never updates or deletes audit rows; the trigger makes sure nothing else does
either (a bug, a hand-written fix at 11 p.m.), short of a superuser dropping the trigger.
"""

FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_change_to_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
"""


def enable(op, table):
    op.execute(FUNCTION)
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()")


def disable(op, table):
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
