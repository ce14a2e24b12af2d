"""Issue 6 against a real PostgreSQL: a division's admin cannot take over another division's or
a cross-division account; the audit is read per tenant; the sign-in guard keeps a student from
locking a teacher out; an unknown username is answered like a known one."""
import datetime as dt

import pytest
import sqlalchemy as sa

from accounts import usecases
from portfolio_common import caller as caller_mod

SYSTEM = caller_mod.system_caller("day")
PW = "old-password-1"
DAY_ADMIN = caller_mod.Caller(user_id="00000000-0000-0000-0000-0000000000da", username="admin_day", tenant="day",
                              roles=("system_admin",), remote_addr="10.0.0.1")


@pytest.fixture
def db(service_db):
    db = service_db("accounts")
    with db.uow() as uow:
        usecases.ensure_tenants(uow, SYSTEM, [
            {"code": "day", "school_code": "050407", "division": "日間部", "name": "日間部"},
            {"code": "ce", "school_code": "050407", "division": "進修部", "name": "進修部"}])
    with db.uow() as uow:
        report = usecases.import_people(uow, SYSTEM, [
            {"username": u, "display_name": u, "password": PW, "grants": [{"tenant": t, "role": r} for t, r in g]}
            for u, g in (("admin_day", [("day", "system_admin")]), ("t_wang", [("day", "subject_teacher")]),
                         ("s_day01", [("day", "student")]), ("reg_ce", [("ce", "registrar")]),
                         ("t_both", [("day", "subject_teacher"), ("ce", "subject_teacher")]),
                         ("ops", [("day", "ops"), ("ce", "ops")]))])
    assert not report["refused"]
    return db


def code_of(fn):
    with pytest.raises(Exception) as e:
        fn()
    return e.value.code


def snapshot(db):
    """What a takeover would change: grants, password hashes, identities, sessions."""
    with db.engine.connect() as c:
        return [c.execute(sa.text(q)).all() for q in (
            "select u.username, g.tenant, g.role from role_grants g join users u on u.id = g.user_id order by 1, 2, 3",
            "select username, password_hash, must_change_password from users order by 1",
            "select provider, subject, user_id from identities order by 1, 2",
            "select id, revoked_at from sessions order by 1")]


def sign_in(db, username, password=PW, addr="10.0.0.9"):
    with db.uow() as uow:
        return usecases.sign_in(uow, username, password, remote_addr=addr)


# ---------------------------------------------------------------- item 1

def test_day_admin_against_a_ce_only_user_import_row_reset_and_identity_all_refused(db):
    victim = sign_in(db, "reg_ce")  # the victim is signed in: the session must survive
    before = snapshot(db)
    with db.uow() as uow:
        report = usecases.import_people(uow, DAY_ADMIN, [
            {"username": "reg_ce", "display_name": "reg_ce", "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["account_managed_elsewhere"]
    with db.uow() as uow:
        assert code_of(lambda: usecases.reset_password(uow, DAY_ADMIN, "reg_ce")) == "user_not_found"
    with db.uow() as uow:
        assert code_of(lambda: usecases.link_identity(uow, DAY_ADMIN, "reg_ce", "moe-cloud", "attacker")) \
            == "user_not_found"
    assert snapshot(db) == before
    with db.uow() as uow:
        assert usecases.resolve_session(uow, victim["session_token"])["username"] == "reg_ce"
    with db.uow() as uow:  # and the identity does not sign anyone in as reg_ce
        assert code_of(lambda: usecases.sign_in_with_identity(uow, "moe-cloud", "attacker")) == "identity_not_linked"


@pytest.mark.parametrize("target", ["t_both", "ops"])
def test_day_admin_against_a_dual_tenant_user_all_refused(db, target):
    before = snapshot(db)
    with db.uow() as uow:
        report = usecases.import_people(uow, DAY_ADMIN, [
            {"username": target, "display_name": target, "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["account_managed_elsewhere"]
    with db.uow() as uow:
        assert code_of(lambda: usecases.reset_password(uow, DAY_ADMIN, target)) == "account_managed_elsewhere"
    with db.uow() as uow:
        assert code_of(lambda: usecases.link_identity(uow, DAY_ADMIN, target, "moe-cloud", "attacker")) \
            == "account_managed_elsewhere"
    assert snapshot(db) == before
    # the platform level manages it
    with db.uow() as uow:
        assert usecases.reset_password(uow, SYSTEM, target)["temporary_password"]


def test_admin_pages_list_cross_division_accounts_as_read_only(db):
    with db.uow() as uow:
        people = {p["username"]: p for p in usecases.list_users(uow, DAY_ADMIN)}
    assert "reg_ce" not in people
    assert (people["t_both"]["editable"], people["t_both"]["other_tenants"]) == (False, ["ce"])
    assert people["t_wang"]["editable"] and people["t_wang"]["managed_by"] == "tenant"


# ---------------------------------------------------------------- item 7

def test_the_ce_ops_user_does_not_see_a_day_teachers_sign_in(db):
    sign_in(db, "t_wang")
    code_of(lambda: sign_in(db, "t_wang", "wrong-password-9"))
    sign_in(db, "reg_ce")
    ops = sign_in(db, "ops")
    ce_ops = caller_mod.Caller(user_id=ops["user_id"], username="ops", tenant="ce", roles=("ops",))
    day_ops = caller_mod.Caller(user_id=ops["user_id"], username="ops", tenant="day", roles=("ops",))
    with db.uow() as uow:
        ce_rows = usecases.list_access_audit(uow, ce_ops, 1000)
    with db.uow() as uow:
        day_rows = usecases.list_access_audit(uow, day_ops, 1000)
    assert not [r for r in ce_rows if r["username"] == "t_wang"]
    assert {"sign_in", "sign_in_failed"} <= {r["action"] for r in day_rows if r["username"] == "t_wang"}
    assert [r for r in ce_rows if r["username"] == "reg_ce" and r["action"] == "sign_in"]
    assert all("ce" in r["tenants"] for r in ce_rows)
    # rows of imports and resets name the tenants too
    with db.uow() as uow:
        usecases.reset_password(uow, DAY_ADMIN, "t_wang")
    with db.uow() as uow:
        assert not [r for r in usecases.list_access_audit(uow, ce_ops, 1000) if r["action"] == "password_reset"]


def test_proxy_grants_are_recorded_in_the_tenant(db):
    with db.uow() as uow:
        usecases.import_people(uow, SYSTEM, [{"username": "t_lin", "display_name": "林", "password": PW,
                                              "grants": [{"tenant": "day", "role": "subject_teacher"}]}])
    wang = sign_in(db, "t_wang")
    who = caller_mod.Caller(user_id=wang["user_id"], username="t_wang", tenant="day", roles=("subject_teacher",))
    with db.uow() as uow:
        usecases.grant_proxy(uow, who, "t_wang", "t_lin", dt.date.today(), dt.date.today())
    (row,) = [r for r in db.rows("access_audit") if r["action"] == "proxy_granted"]
    assert row["tenants"] == ["day"]


# ---------------------------------------------------------------- items 6 and 12

def test_a_student_cannot_lock_a_teacher_out_during_the_certification_window(db):
    for _ in range(12):  # a student at a classroom PC keeps guessing
        code_of(lambda: sign_in(db, "t_wang", "guess-guess-1", addr="10.20.0.31"))
    assert code_of(lambda: sign_in(db, "t_wang", addr="10.20.0.31")) == "account_locked"
    # the teacher, from the staff room, signs in at once
    assert sign_in(db, "t_wang", addr="10.20.9.5")["username"] == "t_wang"
    with db.engine.connect() as c:
        (until,) = c.execute(sa.text("select max(locked_until) - now() from sign_in_guard")).one()
    assert until <= dt.timedelta(minutes=15)  # never an hour


def test_an_unknown_username_gets_the_same_answers_as_a_known_one(db):
    def run(name):
        out = []
        for _ in range(7):
            out.append(code_of(lambda: sign_in(db, name, "wrong-password-9", addr="10.30.0.1")))
        return out
    assert run("t_wang") == run("no_such_user") == ["invalid_credentials"] * 5 + ["account_locked"] * 2
    with db.engine.connect() as c:  # the typed unknown name is counted and locked like a real one
        keys = set(c.execute(sa.text("select key from sign_in_guard where locked_until > now()")).scalars())
    assert {"pair:t_wang|10.30.0.1", "pair:no_such_user|10.30.0.1"} <= keys


def test_usernames_shaped_like_a_national_id_are_refused_and_never_stored(db):
    with db.uow() as uow:
        report = usecases.import_people(uow, SYSTEM, [{"username": "A123456789", "display_name": "x",
                                                       "password": PW, "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["username_national_id"]
    code_of(lambda: sign_in(db, "A123456789", "wrong-password-9"))
    with db.engine.connect() as c:
        dump = str(c.execute(sa.text("select * from access_audit")).all()) + \
            str(c.execute(sa.text("select * from sign_in_guard")).all()) + str(c.execute(sa.text("select * from users")).all())
    assert "A123456789" not in dump and "a123456789" not in dump


def test_weak_passwords_are_refused_on_change_with_a_reason_code(db):
    s = sign_in(db, "t_wang")
    for weak, code in (("password1", "password_too_common"), ("t_wang2026", "password_is_username"),
                       ("A123456789", "password_like_national_id"), ("abc", "password_too_short")):
        with db.uow() as uow:
            assert code_of(lambda: usecases.change_password(uow, s["session_token"], PW, weak)) == code
    assert sign_in(db, "t_wang")["username"] == "t_wang"  # the old password still works


def test_a_parallel_burst_of_guesses_is_counted_in_full(db):
    """Failures are counted atomically in the database: attempts made at the same moment (each
    in its own transaction) cannot overwrite each other's count."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: code_of(lambda: sign_in(db, "s_day01", "guess-guess-1", addr="10.40.0.1")),
                      range(8)))
    with db.engine.connect() as c:
        n = c.execute(sa.text("select failures from sign_in_guard where key = 'pair:s_day01|10.40.0.1'")).scalar()
    assert n == 8
