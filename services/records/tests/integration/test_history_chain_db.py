"""The history chain on a real PostgreSQL: append-only in the database, chained across
concurrent writers, and a row altered behind the service's back is named by the verifier."""
import os
import subprocess
import sys
import threading
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common.crypto import NationalIdVault
from records import verify_history
from records.profile import usecases as profile
from records.status import usecases as status

VAULT = NationalIdVault("test-key")
OPTS = {"school_year": 115, "school_code": "050407"}
IDS = ["A123456789", "F131104093", "B123456780", "A223456781", "H123456786", "E223456785"]


def registrar(tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"reg_{tenant}", tenant=tenant, roles=("registrar",))


def form(i, **over):
    return {"student_no": f"115{i:04d}", "name": f"學生{i}", "national_id": IDS[i], "class_code": "101",
            "class_name": "一甲", "user_id": str(uuid.uuid4()), "birth_date": "0940315"} | over


@pytest.fixture
def db(service_db):
    db = service_db("records")
    reg, ce = registrar(), registrar("ce")
    for i in range(3):
        with db.uow() as uow:
            got = profile.create_student(uow, VAULT, reg, form(i), OPTS)
        with db.uow() as uow:
            profile.update_student(uow, VAULT, reg, got["id"], form(i, name=f"改名{i}", user_id=got["user_id"]), 1, OPTS)
    with db.uow() as uow:
        got = profile.create_student(uow, VAULT, ce, form(3), OPTS)
    with db.uow() as uow:
        status.record_status_change(uow, ce, got["id"], {"change": "repeat", "effective_on": "2026-09-01"})
    return db


def run_verifier(db, *args):
    url = db.engine.url.render_as_string(hide_password=False)
    return subprocess.run([sys.executable, "-m", "records.verify_history", "--database-url", url, *args],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_the_chain_holds_and_the_command_says_so(db):
    res = run_verifier(db)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("OK ce: 3 rows") and lines[1].startswith("OK day: 6 rows")


def test_the_database_refuses_update_delete_and_truncate(db):
    for sql in ("update record_changes set action='x'", "delete from record_changes",
                "truncate record_changes"):
        with pytest.raises(sa.exc.DBAPIError) as e:
            with db.engine.begin() as c:
                c.execute(sa.text(sql))
        assert "append-only" in str(e.value)


def test_a_row_altered_behind_the_services_back_is_named(db):
    target = db.rows("record_changes")[4]  # day's 5th row... whichever: the verifier must name it
    with db.engine.begin() as c:  # as the database owner: switch the trigger off, edit, switch it on
        c.execute(sa.text("alter table record_changes disable trigger record_changes_append_only"))
        c.execute(sa.text("update record_changes set after = jsonb_set(after, '{name}', '\"竄改\"') where seq = :s"),
                  {"s": target["seq"]})
        c.execute(sa.text("alter table record_changes enable trigger record_changes_append_only"))
    res = run_verifier(db)
    assert res.returncode == 1
    broken = [line for line in res.stdout.splitlines() if line.startswith("BROKEN")]
    assert broken == [f"BROKEN {target['tenant']}: chain_seq {target['chain_seq']} (seq {target['seq']}): "
                      "its content does not match its hash (the row was altered)"]
    assert any(line.startswith("OK ce") for line in res.stdout.splitlines())


def test_a_deleted_row_and_a_cut_off_end_are_named(db):
    day = [r for r in db.rows("record_changes") if r["tenant"] == "day"]
    head = day[-1]
    with db.engine.begin() as c:
        c.execute(sa.text("set session_replication_role = replica"))  # triggers off for this session
        c.execute(sa.text("delete from record_changes where seq = :s"), {"s": head["seq"]})
    res = run_verifier(db, "--tenant", "day", "--expect-head", f"day:{head['chain_seq']}:{head['hash']}")
    assert res.returncode == 1 and f"BROKEN day: chain_seq {head['chain_seq']}:" in res.stdout
    with db.engine.begin() as c:
        c.execute(sa.text("set session_replication_role = replica"))
        c.execute(sa.text("delete from record_changes where seq = :s"), {"s": day[1]["seq"]})
    res = run_verifier(db, "--tenant", "day")
    assert res.returncode == 1 and "BROKEN day: chain_seq 3" in res.stdout and "row 2 of the chain is missing" in res.stdout


def test_concurrent_writers_never_fork_a_tenants_chain(db):
    reg = registrar()
    with db.uow() as uow:
        ids = [profile.create_student(uow, VAULT, reg, form(4), OPTS)["id"]]
    with db.uow() as uow:
        ids.append(profile.create_student(uow, VAULT, reg, form(5), OPTS)["id"])
    errors = []

    def edit(sid, n):
        try:
            for k in range(n):
                with db.uow() as uow:
                    row = profile.get_student(uow, VAULT, reg, sid)
                    profile.update_student(uow, VAULT, reg, sid, form(4 if sid == ids[0] else 5, name=f"名{k}",
                                                                     user_id=row["user_id"]), row["version"], OPTS)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=edit, args=(sid, 8)) for sid in ids]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    (day,) = [r for r in verify_history.verify(db.engine, "day")]
    assert day[4] is None and day[1] == 6 + 2 + 16


def test_the_history_reads_back_for_those_allowed(db):
    from records.history import usecases as history
    reg = registrar("ce")
    with db.uow() as uow:
        (st,) = profile.list_students(uow, VAULT, reg)
        rows = history.get_history(uow, reg, "student", st["id"])
    assert [r["action"] for r in rows] == ["created", "created", "status_changed"]
    assert rows[0]["actor_username"] == "reg_ce" and "E223456785" not in str(rows)
    with db.uow() as uow, pytest.raises(Exception) as e:
        history.get_history(uow, registrar("day"), "student", st["id"])
    assert getattr(e.value, "code", None) == "not_found"


def test_rows_written_before_the_chain_existed_are_chained_by_the_migration(fresh_db):
    """A database that already holds a trail (0004) is upgraded and its rows verify."""
    from alembic import command
    from alembic.config import Config

    import records
    from portfolio_common.db import make_engine
    engine = make_engine(fresh_db("records_old"))
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(records.__file__), "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    with engine.begin() as c:
        for tenant, n in (("day", 3), ("ce", 2)):
            for i in range(n):
                c.execute(sa.text("insert into record_changes (tenant, entity, entity_id, action, actor_user_id, after) "
                                  "values (:t, 'student', :e, 'created', :a, '{\"name\": \"甲\"}')"),
                          {"t": tenant, "e": str(uuid.uuid4()), "a": str(uuid.uuid4())})
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    got = {t: (n, broken) for t, n, _, _, broken in verify_history.verify(engine)}
    assert got == {"ce": (2, None), "day": (3, None)}
    engine.dispose()
