"""The migrate step: databases, roles and schema as their owners; the broker's topology.

Least privilege in PostgreSQL: each service's database `<prefix>_<service>` is owned by the
role `<prefix>_<service>_owner`, which runs the Alembic migrations; the service itself
connects as `<prefix>_<service>`, a role that owns nothing and may only:

- connect to its own database (CONNECT is revoked from PUBLIC on every service database);
- SELECT, INSERT, UPDATE the tables of its schema, and DELETE only from the tables its
  `orm.DELETES_FROM` names;
- SELECT and INSERT an append-only table (one with the `refuse_change_to_append_only`
  trigger): no UPDATE, DELETE or TRUNCATE, and, not being the owner, it cannot drop or disable
  the trigger either;
- no DDL: no CREATE on the schema, no ALTER, no DROP.

  python -m portfolio_common.migrate [--topology] [SERVICE ...]      (default: all five)

Environment: `POSTGRES_ADMIN_URL` (a superuser, e.g. postgresql+psycopg2://postgres:pw@postgres:5432/postgres)
creates or updates the roles and databases, and takes over objects an earlier version created
as the superuser; `DATABASE_PREFIX` (default `portfolio`); `PG_<SERVICE>_PASSWORD` and
`PG_<SERVICE>_OWNER_PASSWORD` set the roles' passwords. With --topology, `AMQP_URI` (the vhost's
administrator) declares the exchanges and queues, re-creating queues whose arguments changed
(`portfolio-topology --migrate`; run it with the services stopped).
"""
import importlib
import os
import sys

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .db import make_engine, run_migrations

SERVICES = ("accounts", "records", "files", "certification", "submission")
APPEND_ONLY_FUNCTION = "refuse_change_to_append_only"


def names(prefix: str, service: str) -> dict:
    """{"database", "owner", "runtime"} for a service under a deployment prefix."""
    base = f"{prefix}_{service}"
    return {"database": base, "owner": f"{base}_owner", "runtime": base}


def role_url(base_url: str, database: str, role: str, password: str = None) -> str:
    """`base_url` (host, port, driver) with another database and role."""
    u = make_url(base_url).set(database=database, username=role, password=password)
    return u.render_as_string(hide_password=False)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _ensure_role(conn, role, password):
    attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
    exists = conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": role}).first()
    verb = "ALTER" if exists else "CREATE"
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:  # psycopg2 quotes the password client-side (utility statement)
        if password:
            cur.execute(f"{verb} ROLE {_q(role)} {attrs} PASSWORD %s", (password,))
        else:
            cur.execute(f"{verb} ROLE {_q(role)} {attrs}")


def bootstrap(admin_url: str, database: str, owner: str, runtime: str, *,
              owner_password=None, runtime_password=None):
    """As a superuser: both roles, the database owned by `owner`, CONNECT for these two only,
    and ownership of everything in its public schema (an earlier version created the tables as
    the superuser). Idempotent."""
    admin = make_engine(make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT",
                        pool_size=1, max_overflow=0)
    try:
        with admin.connect() as c:
            _ensure_role(c, owner, owner_password)
            _ensure_role(c, runtime, runtime_password)
            if not c.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": database}).first():
                try:
                    c.execute(sa.text(f"CREATE DATABASE {_q(database)} OWNER {_q(owner)}"))
                except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                    pass  # created concurrently
            c.execute(sa.text(f"ALTER DATABASE {_q(database)} OWNER TO {_q(owner)}"))
            c.execute(sa.text(f"REVOKE ALL ON DATABASE {_q(database)} FROM PUBLIC"))
            c.execute(sa.text(f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(database)} TO {_q(owner)}"))
            c.execute(sa.text(f"GRANT CONNECT ON DATABASE {_q(database)} TO {_q(runtime)}"))
    finally:
        admin.dispose()
    db = make_engine(make_url(admin_url).set(database=database), isolation_level="AUTOCOMMIT",
                     pool_size=1, max_overflow=0)
    try:
        with db.connect() as c:
            c.execute(sa.text(f"ALTER SCHEMA public OWNER TO {_q(owner)}"))
            c.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
            objects = c.execute(sa.text("""
                select case c.relkind when 'S' then 'SEQUENCE' when 'v' then 'VIEW'
                                      when 'm' then 'MATERIALIZED VIEW' else 'TABLE' end, c.relname
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
                  and pg_get_userbyid(c.relowner) <> :o
                  and not (c.relkind = 'S' and exists (select 1 from pg_depend d
                           where d.objid = c.oid and d.deptype in ('a', 'i')))"""), {"o": owner}).all()
            for kind, name in objects:
                c.execute(sa.text(f"ALTER {kind} public.{_q(name)} OWNER TO {_q(owner)}"))
            for (sig,) in c.execute(sa.text("""
                    select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> :o"""), {"o": owner}).all():
                c.execute(sa.text(f"ALTER FUNCTION {sig} OWNER TO {_q(owner)}"))
    finally:
        db.dispose()


def append_only_tables(conn) -> set:
    """Tables guarded by the append-only trigger (portfolio_common.append_only)."""
    return set(conn.execute(sa.text("""
        select distinct c.relname from pg_trigger t
        join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        join pg_proc p on p.oid = t.tgfoid
        where n.nspname = 'public' and p.proname = :f and not t.tgisinternal"""),
        {"f": APPEND_ONLY_FUNCTION}).scalars())


def runtime_rights(tables, append_only, deletes_from) -> dict:
    """table -> privileges of the runtime role (the rule described in the module docstring)."""
    rights = {}
    for t in tables:
        if t == "alembic_version":
            rights[t] = "SELECT"              # the service checks its schema is current
        elif t in append_only:
            rights[t] = "SELECT, INSERT"
        elif t in deletes_from:
            rights[t] = "SELECT, INSERT, UPDATE, DELETE"
        else:
            rights[t] = "SELECT, INSERT, UPDATE"
    return rights


def grant_runtime(owner_url: str, runtime: str, deletes_from=()) -> dict:
    """As the owner, after the migrations: reset the runtime role's rights to the rule.
    Returns table -> privileges granted."""
    eng = make_engine(owner_url, pool_size=1, max_overflow=0)
    try:
        with eng.begin() as c:
            tables = list(c.execute(sa.text(
                "select tablename from pg_tables where schemaname = 'public'")).scalars())
            rights = runtime_rights(tables, append_only_tables(c), set(deletes_from))
            c.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {_q(runtime)}"))
            c.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {_q(runtime)}, PUBLIC"))
            for table, privileges in rights.items():
                c.execute(sa.text(f"GRANT {privileges} ON public.{_q(table)} TO {_q(runtime)}"))
            c.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_q(runtime)}"))
        return rights
    finally:
        eng.dispose()


def script_location(service: str) -> str:
    pkg = importlib.import_module(service)
    return os.path.join(os.path.dirname(pkg.__file__), "migrations")


def deletes_from(service: str):
    return tuple(getattr(importlib.import_module(f"{service}.orm"), "DELETES_FROM", ()))


def migrate_service(service: str, *, base_url: str, prefix: str, admin_url: str = None,
                    owner_password=None, runtime_password=None) -> dict:
    """Bootstrap (when `admin_url` is given), migrate as the owner, grant the runtime role.
    Returns the names used."""
    n = names(prefix, service)
    if admin_url:
        bootstrap(admin_url, n["database"], n["owner"], n["runtime"],
                  owner_password=owner_password, runtime_password=runtime_password)
    owner_url = role_url(base_url, n["database"], n["owner"], owner_password)
    eng = make_engine(owner_url, pool_size=1, max_overflow=0)
    try:
        run_migrations(eng, script_location(service))
    finally:
        eng.dispose()
    grant_runtime(owner_url, n["runtime"], deletes_from(service))
    return n


def drop_roles(admin_url: str, roles):
    """Best effort, for test runs: drop roles (their databases must be gone already)."""
    admin = make_engine(make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT",
                        pool_size=1, max_overflow=0)
    try:
        with admin.connect() as c:
            for role in roles:
                try:
                    c.execute(sa.text(f"DROP ROLE IF EXISTS {_q(role)}"))
                except sa.exc.DBAPIError:
                    pass
    finally:
        admin.dispose()


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(prog="python -m portfolio_common.migrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("services", nargs="*", default=list(SERVICES))
    p.add_argument("--topology", action="store_true", help="also declare (and migrate) the broker topology")
    a = p.parse_args(argv)
    env = os.environ
    admin_url = env.get("POSTGRES_ADMIN_URL") or None
    base_url = env.get("MIGRATE_BASE_URL") or admin_url
    if not base_url:
        p.error("set POSTGRES_ADMIN_URL (or MIGRATE_BASE_URL when the roles already exist)")
    prefix = env.get("DATABASE_PREFIX", "portfolio")
    for service in a.services:
        if service not in SERVICES:
            p.error(f"unknown service {service!r}")
        up = service.upper()
        n = migrate_service(service, base_url=base_url, prefix=prefix, admin_url=admin_url,
                            owner_password=env.get(f"PG_{up}_OWNER_PASSWORD"),
                            runtime_password=env.get(f"PG_{up}_PASSWORD"))
        print(f"migrate: {n['database']} at head (owner {n['owner']}, service role {n['runtime']})")
    if a.topology:
        from .amqp import PikaPublisher, declare_topology, migrate_queues
        from .config import amqp_uri
        pub = PikaPublisher(amqp_uri(), connection_name="migrate")
        try:
            migrate_queues(pub, log_fn=lambda m: print(f"migrate: {m}"))
            pub.call(declare_topology)
        finally:
            pub.close()
        print("migrate: broker topology declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
