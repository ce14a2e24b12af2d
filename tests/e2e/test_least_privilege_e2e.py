"""The platform as the launcher starts it: every process holds only its own credentials.

Read from each running process's environment (/proc/<pid>/environ), as an attacker who took
that process would: no PostgreSQL superuser, no broker administrator, no other service's
password or private key.
"""
import urllib.parse

from deploy.launcher import DATABASE_SERVICES, PROCESSES, SEALING_SERVICES


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as fh:
        return dict(item.decode().split("=", 1) for item in fh.read().split(b"\0") if b"=" in item)


def test_each_process_runs_with_its_own_broker_user_and_database_role(stack):
    admin_user = urllib.parse.urlsplit(stack.amqp_uri).username
    running = stack.running()
    for name in PROCESSES:
        env = _environ(running[name])
        amqp_user = urllib.parse.urlsplit(env["AMQP_URI"]).username
        assert amqp_user == stack.broker_user(name) != admin_user, name
        if name in DATABASE_SERVICES:
            db_user = urllib.parse.urlsplit(env["DATABASE_URL"].replace("+psycopg2", "")).username
            assert db_user == f"{stack.db_prefix}_{name}", name
            assert db_user != "postgres" and not db_user.endswith("_owner"), name
        else:
            assert "DATABASE_URL" not in env, name
        assert ("SEAL_KEY" in env) == (name in SEALING_SERVICES), name
        leaked = [k for k in env if k.endswith(("_AMQP_PASSWORD", "_OWNER_PASSWORD", "_SEAL_KEY"))
                  or (k.startswith("PG_") and k.endswith("_PASSWORD"))]
        assert not leaked, f"{name} holds other principals' secrets: {leaked}"
