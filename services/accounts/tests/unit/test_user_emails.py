"""Reminder addresses on accounts (issue 10 item 5): the import sets them, a malformed one is
refused with nothing written, and only the certification service's own identity reads them,
for its tenant only. Over the in-memory fakes."""
import uuid

import pytest

from accounts import domain, usecases
from accounts.unit_of_work import FakeAccountsUnitOfWork
from portfolio_common import caller as caller_mod
from portfolio_common.errors import NotAllowed

PW = "correct-horse-7"
SYSTEM = caller_mod.system_caller("day")


def service(name, tenant="day"):
    return caller_mod.service_caller(name, tenant)


@pytest.fixture
def uow():
    u = FakeAccountsUnitOfWork()
    for code in ("day", "ce"):
        u.accounts.upsert_tenant({"code": code, "school_code": "050407", "division": code, "name": code})
    report = usecases.import_people(u, SYSTEM, [
        {"username": "t_wang", "display_name": "王老師", "password": PW, "email": " T_Wang@Demo-School.EXAMPLE ",
         "grants": [{"tenant": "day", "role": "subject_teacher"}]},
        {"username": "s_day01", "display_name": "學生", "password": PW, "grants": [{"tenant": "day", "role": "student"}]},
        {"username": "t_chen", "display_name": "陳老師", "password": PW, "email": "t_chen@demo-school.example",
         "grants": [{"tenant": "ce", "role": "subject_teacher"}]}])
    assert not report["refused"], report
    u.ids = report["user_ids"]
    return u


@pytest.mark.parametrize("typed,stored", [
    ("wang@school.example", "wang@school.example"), ("  Wang.T+cert@School.Example ", "Wang.T+cert@school.example"),
    ("", None), ("   ", None), (None, None)])
def test_an_address_is_trimmed_and_its_domain_lower_cased(typed, stored):
    assert domain.clean_email(typed) == stored


@pytest.mark.parametrize("typed", [
    "wang", "wang@", "@school.example", "wang@school", "王 <wang@school.example>", "a@b.example, c@d.example",
    "wang @school.example", "wang@@school.example", "wang@school..example", "x" * 250 + "@s.example", 42])
def test_anything_but_one_plain_address_is_email_invalid(typed):
    with pytest.raises(Exception) as e:
        domain.clean_email(typed)
    assert e.value.code == "email_invalid"


def test_the_import_sets_an_address_and_an_empty_cell_keeps_it(uow):
    users = {u["username"]: u for u in uow.accounts.users.values()}
    assert users["t_wang"]["email"] == "T_Wang@demo-school.example" and users["s_day01"]["email"] is None
    row = {"username": "t_wang", "display_name": "王老師", "grants": [{"tenant": "day", "role": "subject_teacher"}]}
    assert usecases.import_people(uow, SYSTEM, [dict(row, email=None)])["unchanged"] == ["t_wang"]
    assert usecases.import_people(uow, SYSTEM, [dict(row, email="wang@school.example")])["updated"] == ["t_wang"]
    assert uow.accounts.user_by_name("t_wang")["email"] == "wang@school.example"


def test_a_malformed_address_refuses_the_row_and_nothing_is_written(uow):
    before = {k: dict(v) for k, v in uow.accounts.users.items()}
    report = usecases.import_people(uow, SYSTEM, [
        {"username": "s_day01", "display_name": "學生", "email": "not an address",
         "grants": [{"tenant": "day", "role": "student"}]},
        {"username": "s_new", "display_name": "新生", "password": PW, "email": "new@school.example",
         "grants": [{"tenant": "day", "role": "student"}]}])
    assert [(r["username"], r["code"]) for r in report["refused"]] == [("s_day01", "email_invalid")]
    assert uow.accounts.users == before


def test_certification_reads_the_addresses_of_its_tenant_only(uow):
    ids = uow.ids
    asked = [ids["t_wang"], ids["s_day01"], ids["t_chen"], str(uuid.uuid4()), "not-a-uuid"]
    assert usecases.user_emails(uow, service("certification", "day"), asked) == {
        ids["t_wang"]: "T_Wang@demo-school.example"}
    assert usecases.user_emails(uow, service("certification", "ce"), asked) == {
        ids["t_chen"]: "t_chen@demo-school.example"}


@pytest.mark.parametrize("who", [
    caller_mod.Caller(user_id=str(uuid.uuid4()), username="t", tenant="day", roles=("subject_teacher",)),
    caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",)),
    caller_mod.Caller(user_id=str(uuid.uuid4()), username="a", tenant="day", roles=("system_admin",)),
    SYSTEM, service("records"), service("submission"), service("gateway")])
def test_no_one_else_reads_the_addresses(uow, who):
    with pytest.raises(NotAllowed):
        usecases.user_emails(uow, who, [uow.ids["t_wang"]])
