"""Sign-in, sessions, lockout and passwords against a real PostgreSQL database."""
import pytest
import sqlalchemy as sa

from accounts import domain, usecases
from portfolio_common import caller as caller_mod

SYSTEM = caller_mod.system_caller("day")


@pytest.fixture
def db(service_db):
    db = service_db("accounts")
    with db.uow() as uow:
        usecases.ensure_tenants(uow, SYSTEM, [
            {"code": "day", "school_code": "050407", "division": "日間部", "name": "日間部"},
            {"code": "ce", "school_code": "050407", "division": "進修部", "name": "進修部"}])
    with db.uow() as uow:
        report = usecases.import_people(uow, SYSTEM, [
            {"username": "t_wang", "display_name": "王老師", "password": "old-password-1",
             "grants": [{"tenant": "day", "role": "subject_teacher"}]},
            {"username": "ce_admin", "display_name": "進修部管理者", "password": "old-password-1",
             "grants": [{"tenant": "ce", "role": "system_admin"}]}])
    assert not report["refused"]
    return db


def sign_in(db, password="old-password-1", username="t_wang", kind="portal"):
    with db.uow() as uow:
        return usecases.sign_in(uow, username, password, remote_addr="127.0.0.1", kind=kind)


def resolve(db, token):
    with db.uow() as uow:
        return usecases.resolve_session(uow, token)


def code_of(fn):
    with pytest.raises(Exception) as e:
        fn()
    return e.value.code


def test_session_is_server_side_and_sign_out_really_ends_it(db):
    s = sign_in(db)
    assert resolve(db, s["session_token"])["username"] == "t_wang"
    with db.engine.connect() as c:  # only the token's hash is stored
        assert s["session_token"] not in str(c.execute(sa.text("select * from sessions")).all())
    with db.uow() as uow:
        assert usecases.sign_out(uow, s["session_token"])
    assert code_of(lambda: resolve(db, s["session_token"])) == "session_invalid"
    assert code_of(lambda: resolve(db, "forged-token")) == "session_invalid"


def test_user_sees_and_ends_own_sessions(db):
    a, b = sign_in(db), sign_in(db, kind="api")
    with db.uow() as uow:
        mine = usecases.list_my_sessions(uow, a["session_token"])
    assert len(mine) == 2 and sum(x["current"] for x in mine) == 1
    other = next(x for x in mine if not x["current"])
    with db.uow() as uow:
        usecases.end_session(uow, a["session_token"], other["id"])
    assert code_of(lambda: resolve(db, b["session_token"])) == "session_invalid"
    stranger = sign_in(db, username="ce_admin")
    with db.uow() as uow:  # someone else's session id reads as not found
        assert code_of(lambda: usecases.end_session(uow, stranger["session_token"], mine[0]["id"])) == "not_found"


def test_lockout_with_back_off_and_audit(db):
    for _ in range(domain.PAIR.after):
        assert code_of(lambda: sign_in(db, "wrong-password-9")) == "invalid_credentials"
    # now locked from this address: even the right password is refused until the wait is over
    assert code_of(lambda: sign_in(db)) == "account_locked"
    with db.engine.begin() as c:
        c.execute(sa.text("update sign_in_guard set locked_until = now() - interval '1 second'"))
    assert sign_in(db)["session_token"]
    actions = [r["action"] for r in db.rows("access_audit")]
    assert actions.count("sign_in_failed") == 5 and "locked_out" in actions and "sign_in_locked" in actions


def test_the_guard_survives_concurrent_transactions_and_decays(db):
    """Failures are counted in the database (every replica sees them) and forgotten after the
    window: a count whose last failure is older than 15 minutes starts again."""
    for _ in range(4):
        code_of(lambda: sign_in(db, "wrong-password-9"))
    with db.engine.begin() as c:
        c.execute(sa.text("update sign_in_guard set last_failed_at = now() - interval '16 minutes'"))
    for _ in range(4):
        assert code_of(lambda: sign_in(db, "wrong-password-9")) == "invalid_credentials"
    assert sign_in(db)["session_token"]


def test_admin_reset_forces_a_new_password_and_ends_sessions(db):
    s = sign_in(db)
    day_admin = caller_mod.Caller(user_id=SYSTEM.user_id, username="admin", tenant="day", roles=("system_admin",))
    ce_admin = caller_mod.Caller(user_id=SYSTEM.user_id, username="ce_admin", tenant="ce", roles=("system_admin",))
    with db.uow() as uow:  # an admin of another tenant cannot reset this user
        assert code_of(lambda: usecases.reset_password(uow, ce_admin, "t_wang")) == "user_not_found"
    with db.uow() as uow:
        temp = usecases.reset_password(uow, day_admin, "t_wang")["temporary_password"]
    assert code_of(lambda: resolve(db, s["session_token"])) == "session_invalid"
    fresh = sign_in(db, temp)
    assert fresh["must_change_password"]
    with db.uow() as uow:
        assert code_of(lambda: usecases.change_password(uow, fresh["session_token"], "bad", "new-password-2")) == "wrong_password"
    with db.uow() as uow:
        usecases.change_password(uow, fresh["session_token"], temp, "new-password-2")
    assert resolve(db, fresh["session_token"])["must_change_password"] is False
    assert code_of(lambda: sign_in(db, temp)) == "invalid_credentials"


def test_proxy_delegations(db):
    import datetime as dt
    with db.uow() as uow:
        usecases.import_people(uow, SYSTEM, [
            {"username": "t_lin", "display_name": "林老師", "password": "old-password-1",
             "grants": [{"tenant": "day", "role": "subject_teacher"}]},
            {"username": "student1", "display_name": "學生", "password": "old-password-1",
             "grants": [{"tenant": "day", "role": "student"}]}])
    wang = sign_in(db)
    wang_caller = caller_mod.Caller(user_id=wang["user_id"], username="t_wang", tenant="day",
                                    roles=("subject_teacher",))
    today = dt.date.today()
    bad = [("t_lin", today, today - dt.timedelta(days=1), "proxy_period_invalid"),
           ("t_wang", today, today, "proxy_is_self"),
           ("student1", today, today, "proxy_not_teacher"),
           ("nobody", today, today, "proxy_not_teacher")]  # alike: nothing to learn
    for proxy, start, end, code in bad:
        with db.uow() as uow:
            assert code_of(lambda: usecases.grant_proxy(uow, wang_caller, "t_wang", proxy, start, end)) == code
    with db.uow() as uow:  # a teacher cannot name a proxy for another teacher
        assert code_of(lambda: usecases.grant_proxy(uow, wang_caller, "t_lin", "t_wang", today, today)) == "not_allowed"
    with db.uow() as uow:
        usecases.grant_proxy(uow, wang_caller, "t_wang", "t_lin", today - dt.timedelta(days=1),
                             today + dt.timedelta(days=1))
    lin = sign_in(db, username="t_lin")
    assert resolve(db, lin["session_token"])["proxy_for"] == {"day": [wang["user_id"]]}
    with db.uow() as uow:
        (d,) = usecases.list_proxies(uow, wang_caller)
    assert d["active"] and d["proxy_username"] == "t_lin"
    with db.uow() as uow:
        usecases.revoke_proxy(uow, wang_caller, d["id"])
    assert resolve(db, lin["session_token"])["proxy_for"] == {}


def test_import_preview_classifies_and_a_division_admin_stays_in_their_division(db):
    rows = [{"username": "t_wang", "display_name": "王老師", "grants": [{"tenant": "day", "role": "subject_teacher"}]},
            {"username": "new_one", "display_name": "新老師", "password": "initial-pass-1",
             "grants": [{"tenant": "day", "role": "subject_teacher"}]},
            {"username": "ce_admin", "display_name": "進修部管理者 改名", "grants": [{"tenant": "ce", "role": "system_admin"}]}]
    with db.uow() as uow:
        preview = usecases.import_people(uow, SYSTEM, rows, dry_run=True)
    assert (preview["unchanged"], preview["created"], preview["updated"]) == (["t_wang"], ["new_one"], ["ce_admin"])
    with db.uow() as uow:  # the dry run wrote nothing
        assert code_of(lambda: usecases.sign_in(uow, "new_one", "initial-pass-1")) == "invalid_credentials"
    day_admin = caller_mod.Caller(user_id=SYSTEM.user_id, username="day_admin", tenant="day", roles=("system_admin",))
    with db.uow() as uow:
        report = usecases.import_people(uow, day_admin, [
            {"username": "ce_admin", "display_name": "x", "grants": [{"tenant": "ce", "role": "student"}]}])
    assert sorted(r["code"] for r in report["refused"]) == ["account_managed_elsewhere", "other_tenant"]


def test_the_access_audit_is_append_only_in_the_database(db):
    sign_in(db)
    for statement in ("update access_audit set detail = 'x'", "delete from access_audit", "truncate access_audit"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as c:
                c.execute(sa.text(statement))
    assert db.rows("access_audit")


def test_single_sign_on_is_another_way_into_the_same_session(db):
    admin = caller_mod.Caller(user_id=SYSTEM.user_id, username="admin", tenant="day", roles=("system_admin",))
    with db.uow() as uow:
        assert code_of(lambda: usecases.sign_in_with_identity(uow, "moe-cloud", "sub-123")) == "identity_not_linked"
    with db.uow() as uow:
        usecases.link_identity(uow, admin, "t_wang", "moe-cloud", "sub-123")
    with db.uow() as uow:
        s = usecases.sign_in_with_identity(uow, "moe-cloud", "sub-123", remote_addr="127.0.0.1")
    assert resolve(db, s["session_token"])["username"] == "t_wang"
    assert [r["detail"] for r in db.rows("access_audit") if r["action"] == "sign_in"][-1] == "portal moe-cloud"


def test_an_sso_only_account_is_stored_without_a_password_and_a_reset_gives_it_one(db):
    with db.uow() as uow:
        report = usecases.import_people(uow, SYSTEM, [
            {"username": "s_1150099", "display_name": "單一登入學生", "sso_only": True, "password": None,
             "grants": [{"tenant": "day", "role": "student"}]}])
    assert report["created"] == ["s_1150099"], report
    with db.engine.connect() as c:
        assert c.execute(sa.text("select password_hash from users where username = 's_1150099'")).scalar() is None
    wrong = code_of(lambda: sign_in(db, "old-password-1", username="t_wang-no-such"))
    assert code_of(lambda: sign_in(db, "", username="s_1150099")) == wrong
    assert code_of(lambda: sign_in(db, "anything-at-all", username="s_1150099")) == wrong
    with db.uow() as uow:
        temp = usecases.reset_password(uow, caller_mod.system_caller("day"), "s_1150099")
    assert sign_in(db, temp["temporary_password"], username="s_1150099")["username"] == "s_1150099"
