"""Use cases over the in-memory fakes: who manages which account, the sign-in guard, password
rules, the audit's tenants. No database, no broker."""
import datetime as dt

import pytest

from accounts import domain, usecases
from accounts.unit_of_work import FakeAccountsUnitOfWork
from portfolio_common import caller as caller_mod

PW = "correct-horse-7"
SYSTEM = caller_mod.system_caller("day")


def admin_of(tenant, *, roles=("system_admin",)):
    return caller_mod.Caller(user_id="00000000-0000-0000-0000-00000000000a", username=f"admin_{tenant}",
                             tenant=tenant, roles=roles)


@pytest.fixture
def uow():
    u = FakeAccountsUnitOfWork()
    for code, name in (("day", "日間部"), ("ce", "進修部")):
        u.accounts.upsert_tenant({"code": code, "school_code": "050407", "division": name, "name": name})
    report = usecases.import_people(u, SYSTEM, [
        {"username": "t_wang", "display_name": "王老師", "password": PW,
         "grants": [{"tenant": "day", "role": "subject_teacher"}]},
        {"username": "s_day01", "display_name": "學生", "password": PW, "grants": [{"tenant": "day", "role": "student"}]},
        {"username": "reg_ce", "display_name": "進修部註冊", "password": PW,
         "grants": [{"tenant": "ce", "role": "registrar"}]},
        {"username": "principal", "display_name": "校長", "password": PW,
         "grants": [{"tenant": "day", "role": "principal"}, {"tenant": "ce", "role": "principal"}]},
        {"username": "platform", "display_name": "平台", "password": PW, "grants": [],
         "platform_roles": ["platform_admin"]}])
    assert not report["refused"], report
    u.events.clear()
    return u


def code_of(fn):
    with pytest.raises(Exception) as e:
        fn()
    return e.value.code


def state(uow):
    """Everything an attacker could have changed."""
    a = uow.accounts
    return (sorted(a.role_grants), sorted(a.platform_grants), dict(a.identities),
            {u["username"]: u["password_hash"] for u in a.users.values()})


# ---------------------------------------------------------------- 1: cross-division takeover

def test_a_division_admin_cannot_take_over_an_account_of_the_other_division(uow):
    before = state(uow)
    day_admin = admin_of("day")
    # one import row giving reg_ce a day role: refused (it is ce's account), nothing written
    report = usecases.import_people(uow, day_admin, [{"username": "reg_ce", "display_name": "x",
                                                      "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["account_managed_elsewhere"]
    assert code_of(lambda: usecases.reset_password(uow, day_admin, "reg_ce")) == "user_not_found"
    assert code_of(lambda: usecases.link_identity(uow, day_admin, "reg_ce", "moe", "sub-1")) == "user_not_found"
    assert state(uow) == before


def test_an_account_spanning_divisions_is_managed_at_platform_level_only(uow):
    before = state(uow)
    for admin in (admin_of("day"), admin_of("ce")):
        report = usecases.import_people(uow, admin, [{"username": "principal", "display_name": "校長",
                                                      "grants": [{"tenant": admin.tenant, "role": "ops"}]}])
        assert [r["code"] for r in report["refused"]] == ["account_managed_elsewhere"]
        assert code_of(lambda: usecases.reset_password(uow, admin, "principal")) == "account_managed_elsewhere"
        assert code_of(lambda: usecases.link_identity(uow, admin, "principal", "moe", "s")) == "account_managed_elsewhere"
        # and the platform account is not a division's either
        assert code_of(lambda: usecases.reset_password(uow, admin, "platform")) == "user_not_found"
    assert state(uow) == before
    # the platform admin (a platform grant, no tenant) manages it
    platform = caller_mod.Caller(user_id="p", username="platform", tenant="day", roles=("platform_admin",))
    assert usecases.reset_password(uow, platform, "principal")["temporary_password"]
    assert usecases.link_identity(uow, platform, "principal", "moe", "s")


def test_a_division_admin_still_manages_their_own_divisions_accounts(uow):
    day_admin = admin_of("day")
    assert usecases.reset_password(uow, day_admin, "t_wang")["temporary_password"]
    assert usecases.link_identity(uow, day_admin, "t_wang", "moe", "sub-w")
    report = usecases.import_people(uow, day_admin, [{"username": "t_wang", "display_name": "王老師",
                                                      "grants": [{"tenant": "day", "role": "homeroom_teacher"}]}])
    assert report["updated"] == ["t_wang"] and not report["refused"]


def test_an_identity_linked_to_anothers_account_cannot_be_moved_by_an_admin_who_does_not_manage_it(uow):
    platform = caller_mod.Caller(user_id="p", username="platform", tenant="ce", roles=("platform_admin",))
    usecases.link_identity(uow, platform, "reg_ce", "moe", "sub-ce")
    assert code_of(lambda: usecases.link_identity(uow, admin_of("day"), "t_wang", "moe", "sub-ce")) \
        == "account_managed_elsewhere"
    assert uow.accounts.identities[("moe", "sub-ce")] == uow.accounts.user_by_name("reg_ce")["id"]


def test_platform_roles_and_tenants_are_set_at_platform_level_only(uow):
    report = usecases.import_people(uow, admin_of("day"), [
        {"username": "new_one", "display_name": "新", "password": PW, "grants": [{"tenant": "day", "role": "ops"}],
         "platform_roles": ["platform_admin"]}])
    assert [r["code"] for r in report["refused"]] == ["platform_role_not_allowed"]
    row = {"code": "night", "school_code": "050407", "division": "夜間部", "name": "夜間部"}
    assert code_of(lambda: usecases.ensure_tenants(uow, admin_of("day"), [row])) == "not_allowed"
    assert usecases.ensure_tenants(uow, SYSTEM, [row]) == ["night"]


def test_division_admins_see_spanning_accounts_read_only_with_where_else_they_are(uow):
    people = {p["username"]: p for p in usecases.list_users(uow, admin_of("day"))}
    assert set(people) == {"t_wang", "s_day01", "principal"}  # ce's people and the platform's: not listed
    assert people["t_wang"]["editable"] and people["t_wang"]["managed_by"] == "tenant"
    assert not people["principal"]["editable"] and people["principal"]["managed_by"] == "platform"
    assert people["principal"]["other_tenants"] == ["ce"] and "grants" not in people["principal"]


# ---------------------------------------------------------------- 6: the sign-in guard

def sign_in(uow, username, password, addr):
    try:
        usecases.sign_in(uow, username, password, remote_addr=addr)
        return "ok"
    except Exception as e:  # noqa: BLE001
        return e.code


def test_a_student_cannot_lock_a_teacher_out(uow):
    """A student types the teacher's username with wrong passwords all through the window: their
    own machine is locked out of that account; the teacher, from the staff room, is not."""
    results = []
    for _ in range(60):  # every 15 s for 15 minutes
        results.append(sign_in(uow, "t_wang", "guess-guess-1", "10.1.2.3"))
        uow.accounts.tick(15)
    assert results[:5] == ["invalid_credentials"] * 5 and "account_locked" in results[5:]
    assert results.count("invalid_credentials") < domain.ACCOUNT.after  # never reaches the account-wide limit
    assert sign_in(uow, "t_wang", PW, "10.9.9.9") == "ok"


def test_failures_decay_after_the_window(uow):
    for _ in range(4):
        assert sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3") == "invalid_credentials"
    uow.accounts.tick(domain.PAIR.window_s + 1)
    for _ in range(4):  # four more after the window: the count started again, no lock
        assert sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3") == "invalid_credentials"
    assert sign_in(uow, "t_wang", PW, "10.1.2.3") == "ok"


def test_lock_doubles_and_has_a_ceiling_and_the_right_password_waits_too(uow):
    for _ in range(5):
        sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3")
    assert sign_in(uow, "t_wang", PW, "10.1.2.3") == "account_locked"
    uow.accounts.tick(31)
    assert sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3") == "invalid_credentials"  # now 60 s
    uow.accounts.tick(31)
    assert sign_in(uow, "t_wang", PW, "10.1.2.3") == "account_locked"
    uow.accounts.tick(30)
    assert sign_in(uow, "t_wang", PW, "10.1.2.3") == "ok"
    assert domain.PAIR.lock_seconds(4) == 0 and domain.PAIR.lock_seconds(5) == 30
    assert domain.PAIR.lock_seconds(6) == 60 and domain.PAIR.lock_seconds(99) == domain.PAIR.max_s == 900


def test_one_source_trying_many_accounts_is_throttled(uow):
    codes = [sign_in(uow, f"user{i:03d}", "wrong-wrong-1", "10.7.7.7") for i in range(domain.SOURCE.after + 1)]
    assert codes[:-1] == ["invalid_credentials"] * domain.SOURCE.after and codes[-1] == "sign_in_throttled"
    assert sign_in(uow, "t_wang", PW, "10.7.7.7") == "sign_in_throttled"  # before any password check
    assert sign_in(uow, "t_wang", PW, "10.8.8.8") == "ok"  # other sources are not


def test_the_platforms_own_host_is_not_throttled_as_a_source_but_usernames_still_lock(uow):
    codes = [sign_in(uow, f"user{i:03d}", "wrong-wrong-1", "127.0.0.1") for i in range(domain.SOURCE.after + 5)]
    assert set(codes) == {"invalid_credentials"}
    assert sign_in(uow, "t_wang", PW, "127.0.0.1") == "ok"
    for _ in range(5):
        sign_in(uow, "t_wang", "wrong-wrong-1", "127.0.0.1")
    assert sign_in(uow, "t_wang", PW, "127.0.0.1") == "account_locked"


def test_guessing_from_many_sources_locks_the_account_for_a_while(uow):
    for i in range(domain.ACCOUNT.after):
        sign_in(uow, "t_wang", "wrong-wrong-1", f"10.0.0.{i}")
    assert sign_in(uow, "t_wang", PW, "10.9.9.9") == "account_locked"
    uow.accounts.tick(domain.ACCOUNT.base_s + 1)
    assert sign_in(uow, "t_wang", PW, "10.9.9.9") == "ok"


def test_an_unknown_username_answers_counts_and_costs_like_a_known_one(uow):
    runs = []
    for name in ("t_wang", "nobody_here"):
        uow.run.calls.clear()
        codes = [sign_in(uow, name, "wrong-wrong-1", "10.3.3.3") for _ in range(7)]
        runs.append((codes, uow.run.calls.count("_verify")))
    assert runs[0] == runs[1]
    assert runs[0][0] == ["invalid_credentials"] * 5 + ["account_locked"] * 2 and runs[0][1] == 5


def test_locked_attempts_are_audited_once_a_minute_not_once_each(uow):
    for _ in range(5):
        sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3")
    before = len(uow.accounts.audit_log)
    for _ in range(10):
        assert sign_in(uow, "t_wang", "x", "10.1.2.3") == "account_locked"
    assert [r["action"] for r in uow.accounts.audit_log[before:]] == ["sign_in_locked"]


def test_an_admin_reset_lifts_the_locks_of_the_account(uow):
    for _ in range(5):
        sign_in(uow, "t_wang", "wrong-wrong-1", "10.1.2.3")
    temp = usecases.reset_password(uow, admin_of("day"), "t_wang")["temporary_password"]
    assert sign_in(uow, "t_wang", temp, "10.1.2.3") == "ok"


# ---------------------------------------------------------------- 6: usernames and passwords

@pytest.mark.parametrize("username", ["A123456789", "a223456789", "F812345678", "AB12345678", "ab12345678"])
def test_usernames_shaped_like_a_national_id_are_refused(uow, username):
    for who in (SYSTEM, admin_of("day")):
        report = usecases.import_people(uow, who, [{"username": username, "display_name": "x", "password": PW,
                                                    "grants": [{"tenant": "day", "role": "student"}]}])
        assert [r["code"] for r in report["refused"]] == ["username_national_id"]
        assert username not in str(report["refused"])  # the refusal shows it masked only
    assert uow.accounts.user_by_name(username) is None


@pytest.mark.parametrize("password, code", [
    ("short1", "password_too_short"), ("password", "password_too_common"), ("qwerty123", "password_too_common"),
    ("1qaz2wsx", "password_too_common"), ("Dragon2026!", "password_too_common"), ("aaaaaaaaaa", "password_too_common"),
    ("A123456789", "password_like_national_id"), ("t_wang_2", None), ("new_person", "password_is_username"),
    ("New_Person2026!", "password_is_username")])
def test_weak_passwords_are_refused_on_import(uow, password, code):
    report = usecases.import_people(uow, admin_of("day"), [
        {"username": "new_person", "display_name": "新", "password": password,
         "grants": [{"tenant": "day", "role": "student"}]}], dry_run=False)
    assert [r["code"] for r in report["refused"]] == ([code] if code else [])


def test_weak_passwords_are_refused_on_change_and_the_old_one_stays(uow):
    user = uow.accounts.user_by_name("t_wang")
    for weak, code in (("12345678", "password_too_common"), ("short", "password_too_short"),
                       ("T_WANG", "password_too_short"), ("t_wang12", "password_is_username"),
                       ("Z198765432", "password_like_national_id")):
        assert domain.password_problem("abc1230!", "abc123")[0] == "password_is_username"  # a name ending in digits
        got = code_of(lambda: usecases.change_password_of(uow, user["id"], None, PW, weak))
        assert got == code, weak
    assert uow.passwords.verify(uow.accounts.user_by_name("t_wang")["password_hash"], PW)
    assert usecases.change_password_of(uow, user["id"], None, PW, "a-much-better-one")


# ---------------------------------------------------------------- 7: the audit is per tenant

def test_audit_rows_carry_the_tenants_of_the_account_and_readers_see_only_theirs(uow):
    sign_in(uow, "t_wang", PW, "10.1.1.1")
    sign_in(uow, "reg_ce", "wrong-wrong-1", "10.1.1.2")
    sign_in(uow, "principal", PW, "10.1.1.3")
    sign_in(uow, "ghost", "wrong-wrong-1", "10.1.1.4")
    ce_ops = caller_mod.Caller(user_id="o", username="ops", tenant="ce", roles=("ops",))
    day_ops = caller_mod.Caller(user_id="o", username="ops", tenant="day", roles=("ops",))
    seen = lambda who: {(r["action"], r["username"]) for r in usecases.list_access_audit(uow, who)}  # noqa: E731
    assert ("sign_in", "t_wang") not in seen(ce_ops) and ("sign_in", "t_wang") in seen(day_ops)
    assert ("sign_in_failed", "reg_ce") in seen(ce_ops) and ("sign_in_failed", "reg_ce") not in seen(day_ops)
    assert ("sign_in", "principal") in seen(ce_ops) and ("sign_in", "principal") in seen(day_ops)
    assert ("sign_in_failed", "ghost") not in seen(ce_ops) | seen(day_ops)  # no tenant: platform only
    assert ("sign_in_failed", "ghost") in seen(SYSTEM)


def test_proxy_grants_are_audited_in_their_tenant(uow):
    usecases.import_people(uow, SYSTEM, [{"username": "t_lin", "display_name": "林", "password": PW,
                                          "grants": [{"tenant": "day", "role": "subject_teacher"}]}])
    wang = caller_mod.Caller(user_id=str(uow.accounts.user_by_name("t_wang")["id"]), username="t_wang",
                             tenant="day", roles=("subject_teacher",))
    today = dt.date(2026, 11, 2)
    usecases.grant_proxy(uow, wang, "t_wang", "t_lin", today, today)
    assert uow.accounts.audit_log[-1]["action"] == "proxy_granted" and uow.accounts.audit_log[-1]["tenants"] == ["day"]


# ---------------------------------------------------------------- 12: nothing to learn from a refusal

def test_the_proxy_form_answers_alike_for_no_such_user_and_not_a_teacher(uow):
    usecases.import_people(uow, SYSTEM, [{"username": "t_chen", "display_name": "陳", "password": PW,
                                          "grants": [{"tenant": "ce", "role": "subject_teacher"}]}])
    wang = caller_mod.Caller(user_id=str(uow.accounts.user_by_name("t_wang")["id"]), username="t_wang",
                             tenant="day", roles=("subject_teacher",))
    today = dt.date(2026, 11, 2)
    answers = set()
    for other in ("nobody_at_all", "s_day01", "t_chen", "reg_ce"):
        with pytest.raises(Exception) as e:
            usecases.grant_proxy(uow, wang, "t_wang", other, today, today)
        answers.add((type(e.value).__name__, e.value.code, str(e.value)))
    assert len(answers) == 1 and answers.pop()[1] == "proxy_not_teacher"


# ---------------------------------------------------------------- 6: anonymous refusals are aggregated

def test_anonymous_refusals_write_one_row_per_interval_with_a_count():
    clock = [0.0]
    throttle = domain.AuditThrottle(interval_s=60, clock=lambda: clock[0])
    uow = FakeAccountsUnitOfWork()
    written = [usecases.record_refusal(uow, None, "accounts.resolve_session", "session_invalid", throttle)
               for _ in range(50)]
    assert written.count(True) == 1 and len(uow.accounts.audit_log) == 1
    clock[0] = 61
    usecases.record_refusal(uow, None, "accounts.resolve_session", "session_invalid", throttle)
    assert len(uow.accounts.audit_log) == 2 and "+49 more" in uow.accounts.audit_log[-1]["detail"]
    # a known caller's refusal is always written
    who = caller_mod.Caller(user_id="u", username="s", tenant="day", roles=("student",))
    for _ in range(3):
        usecases.record_refusal(uow, who, "accounts.list_users", "not_allowed", throttle)
    assert len(uow.accounts.audit_log) == 5


# ---------------------------------------------------------------- SSO-only accounts (demo school at size)

def test_an_sso_only_account_has_no_password_and_a_password_sign_in_fails_like_a_wrong_one(uow):
    report = usecases.import_people(uow, SYSTEM, [{"username": "s_gen0001", "display_name": "生成學生",
                                                   "sso_only": True, "grants": [{"tenant": "day", "role": "student"}]}])
    assert report["created"] == ["s_gen0001"] and not report["refused"]
    user = uow.accounts.user_by_name("s_gen0001")
    assert user["password_hash"] is None
    wrong = code_of(lambda: usecases.sign_in(uow, "s_gen0001", "x"))
    assert code_of(lambda: usecases.sign_in(uow, "s_gen0001", "")) == wrong
    assert code_of(lambda: usecases.sign_in(uow, "t_wang", "not-the-password")) == wrong


def test_an_sso_only_row_with_a_password_is_refused_and_nothing_is_written(uow):
    before = state(uow)
    report = usecases.import_people(uow, SYSTEM, [
        {"username": "s_gen0002", "display_name": "生成學生", "sso_only": True, "password": PW,
         "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["password_with_sso_only"]
    assert state(uow) == before and uow.accounts.user_by_name("s_gen0002") is None


def test_a_new_account_without_password_still_needs_one_unless_sso_only(uow):
    report = usecases.import_people(uow, SYSTEM, [{"username": "s_gen0003", "display_name": "生成學生",
                                                   "sso_only": "yes", "grants": [{"tenant": "day", "role": "student"}]}])
    assert [r["code"] for r in report["refused"]] == ["password_missing"]
