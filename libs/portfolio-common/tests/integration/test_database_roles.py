"""Least privilege in PostgreSQL, as the migrate step sets it up (portfolio_common.migrate),
tried as a compromised service would: with its own role, against a real server.

(The local server uses trust authentication: the roles still decide what each connection
may do, which is what is tested here; compose gives each role a password.)
"""
import uuid

import psycopg2
import pytest
import sqlalchemy as sa

from portfolio_common.db import drop_database, ensure_database, make_engine, run_migrations
from portfolio_common.migrate import drop_roles, migrate_service, names, role_url, script_location
from tests.support.ids import RUN


@pytest.fixture
def deployment(pg_base_url):
    """records and accounts migrated under a prefix of this test; removed afterwards."""
    prefix = f"t_{RUN}_{uuid.uuid4().hex[:4]}"
    made = []

    def migrate(service, **kw):
        made.append(service)
        return migrate_service(service, base_url=pg_base_url, prefix=prefix, admin_url=pg_base_url,
                               owner_password="owner-pw", runtime_password="runtime-pw", **kw)
    yield prefix, migrate
    for service in made:
        drop_database(role_url(pg_base_url, names(prefix, service)["database"], "postgres"))
    drop_roles(pg_base_url, [names(prefix, s)[r] for s in made for r in ("owner", "runtime")])


def _as(pg_base_url, prefix, service, role, database_of=None):
    n = names(prefix, service)
    db = names(prefix, database_of or service)["database"]
    u = sa.engine.make_url(role_url(pg_base_url, db, n[role], None))
    return psycopg2.connect(host=u.host, port=u.port or 5432, dbname=u.database, user=u.username)


def _refusal(conn, sql):
    """The SQLSTATE of the refusal, or None when the statement was allowed (then rolled back)."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        return None
    except psycopg2.Error as exc:
        return exc.pgcode
    finally:
        conn.rollback()


INSUFFICIENT_PRIVILEGE = "42501"


def test_a_service_role_cannot_read_another_services_database(deployment, pg_base_url):
    prefix, migrate = deployment
    migrate("accounts")
    migrate("records")
    for role in ("runtime", "owner"):
        with pytest.raises(psycopg2.OperationalError) as e:
            _as(pg_base_url, prefix, "records", role, database_of="accounts")
        assert "permission denied for database" in str(e.value)
    # and it has no way in through its own database either: no superuser, no role membership
    conn = _as(pg_base_url, prefix, "records", "runtime")
    with conn.cursor() as cur:
        cur.execute("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user")
        assert cur.fetchone() == (False, False, False)
        cur.execute("select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
                    "where r.rolname = current_user")
        assert cur.fetchone() == (0,)
    conn.close()


def test_a_service_role_cannot_change_or_unguard_its_append_only_trail(deployment, pg_base_url):
    prefix, migrate = deployment
    migrate("records")
    conn = _as(pg_base_url, prefix, "records", "runtime")
    try:
        for sql in ("update record_changes set action = 'forged'",
                    "delete from record_changes",
                    "truncate record_changes",
                    "alter table record_changes disable trigger all",
                    "alter table record_changes disable trigger record_changes_append_only",
                    "drop trigger record_changes_append_only on record_changes",
                    "drop function refuse_change_to_append_only() cascade",
                    "create table stash (x text)",
                    "alter table students add column x text",
                    "drop table outcomes",
                    "delete from students"):           # not a table records deletes from
            assert _refusal(conn, sql) == INSUFFICIENT_PRIVILEGE, sql
        # ... while the rights its code needs are there
        for sql in ("select count(*) from record_changes", "select count(*) from students",
                    "update students set name = name", "delete from upload_reservations",
                    "update outbox set attempts = attempts", "select version_num from alembic_version"):
            assert _refusal(conn, sql) is None, sql
    finally:
        conn.close()
    owner = _as(pg_base_url, prefix, "records", "owner")
    with owner.cursor() as cur:
        cur.execute("select count(*) from pg_tables where schemaname = 'public' and tableowner <> current_user")
        assert cur.fetchone() == (0,), "the owner role owns every table"
    owner.close()


def test_a_database_an_earlier_version_made_as_the_superuser_is_taken_over(deployment, pg_base_url):
    prefix, migrate = deployment
    old = role_url(pg_base_url, names(prefix, "records")["database"], "postgres")
    ensure_database(old)
    eng = make_engine(old)
    run_migrations(eng, script_location("records"))  # as the superuser, like the previous version
    with eng.connect() as c:
        owners = set(c.execute(sa.text("select tableowner from pg_tables where schemaname = 'public'")).scalars())
    eng.dispose()
    assert owners == {"postgres"}
    migrate("records")
    conn = _as(pg_base_url, prefix, "records", "owner")
    with conn.cursor() as cur:
        cur.execute("select count(*) from pg_tables where schemaname = 'public' and tableowner <> current_user")
        assert cur.fetchone() == (0,)
    conn.close()
    runtime = _as(pg_base_url, prefix, "records", "runtime")
    assert _refusal(runtime, "select count(*) from students") is None
    assert _refusal(runtime, "alter table record_changes disable trigger all") == INSUFFICIENT_PRIVILEGE
    runtime.close()
