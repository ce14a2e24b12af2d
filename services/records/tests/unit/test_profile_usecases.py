"""Profile, status and import use cases over the fake unit of work: no database, no broker."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common.crypto import NationalIdVault
from portfolio_common.errors import PortfolioError
from records import importing
from records.history import first_broken_link
from records.profile import usecases as profile
from records.profile.importer import IMPORTERS
from records.status import usecases as status
from records.status.importer import IMPORTERS as STATUS_IMPORTERS
from records.unit_of_work import FakeRecordsUnitOfWork

VAULT = NationalIdVault("unit-test-key")
OPTS = {"school_year": 115, "school_code": "050407"}
S1, S2 = str(uuid.uuid4()), str(uuid.uuid4())


def registrar(tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"reg_{tenant}", tenant=tenant, roles=("registrar",))


def student(uid, tenant="day"):
    return caller_mod.Caller(user_id=uid, username="s", tenant=tenant, roles=("student",))


def form(**over):
    return {"student_no": "1150001", "name": "陳怡君", "national_id": "A123456789", "class_code": "101",
            "class_name": "資料處理科一年甲班", "user_id": S1, "birth_date": "0940315", "gender": "2"} | over


def rows(*dicts):
    return [{"row": i + 2, "cells": d} for i, d in enumerate(dicts)]


def sheet_row(**over):
    return {"student_no": "1150001", "name": "陳怡君", "national_id": "A123456789", "class_code": "101",
            "class_name": "一甲", "user_id": S1, "account_roles": "student", "birth_date": "0940315"} | over


@pytest.fixture
def uow():
    return FakeRecordsUnitOfWork()


def test_create_stores_encrypted_masked_and_attributed(uow):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(national_id="ａ１２３４５６７８９"), OPTS)
    assert got["national_id_masked"] == "A12*****89" and got["birth_date_roc"] == "0940315" and got["version"] == 1
    (stored,) = uow.students.rows.values()
    assert VAULT.decrypt(stored["national_id_enc"]) == "A123456789" and stored["school_code"] == "050407"
    (h,) = uow.history.rows
    assert (h["action"], h["actor_username"], h["after"]["national_id"]) == ("created", "reg_day", "set")
    assert "A123456789" not in str(uow.history.rows)


def test_update_needs_the_version_the_registrar_saw(uow):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    changed = profile.update_student(uow, VAULT, reg, got["id"], form(name="陳怡君二"), 1, OPTS)
    assert changed["version"] == 2 and changed["name"] == "陳怡君二"
    with pytest.raises(PortfolioError) as e:  # another registrar saved first: refused, not overwritten
        profile.update_student(uow, VAULT, reg, got["id"], form(name="第三個名字"), 1, OPTS)
    assert e.value.code == "stale_record"
    assert profile.get_student(uow, VAULT, reg, got["id"])["name"] == "陳怡君二"
    last = uow.history.rows[-1]
    assert last["before"] == {"name": "陳怡君"} and last["after"] == {"name": "陳怡君二"}


def test_a_corrected_national_id_is_recorded_as_changed_never_as_the_number(uow):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    profile.update_student(uow, VAULT, reg, got["id"], form(national_id="F131104093"), 1, OPTS)
    last = uow.history.rows[-1]
    assert last["before"] == {"national_id": "changed"} == last["after"]
    assert "F131104093" not in str(uow.history.rows)


def test_saving_an_unchanged_form_writes_nothing(uow):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    again = profile.update_student(uow, VAULT, reg, got["id"], form(), 1, OPTS)
    assert again["version"] == 1 and len(uow.history.rows) == 1


def test_duplicates_are_refused_after_normalising_on_every_path(uow):
    reg = registrar()
    profile.create_student(uow, VAULT, reg, form(), OPTS)
    with pytest.raises(PortfolioError) as e:
        profile.create_student(uow, VAULT, reg, form(student_no="1150009", user_id=S2, national_id="a123456789"), OPTS)
    assert e.value.code == "fields_invalid"
    assert ("national_id", "duplicate_national_id") in [(p["field"], p["code"]) for p in e.value.details["problems"]]
    res = importing.run_import(uow, IMPORTERS["student_profile"], profile.ctx_of(reg, VAULT, OPTS),
                               rows(sheet_row(student_no="1150009", user_id=S2, national_id="Ａ123456789", class_name="")))
    assert [(p["row"], p["column"], p["code"]) for p in res["problems"]] == [(2, "national_id", "duplicate_national_id")]


def test_the_other_tenant_and_other_students_read_a_profile_as_missing(uow):
    got = profile.create_student(uow, VAULT, registrar(), form(), OPTS)
    for who in (registrar("ce"), student(S2)):
        with pytest.raises(PortfolioError) as e:
            profile.get_student(uow, VAULT, who, got["id"])
        assert e.value.code == "not_found"
    assert profile.get_student(uow, VAULT, student(S1), got["id"])["student_no"] == "1150001"
    with pytest.raises(PortfolioError):
        profile.create_student(uow, VAULT, student(S1), form(), OPTS)


def test_import_previews_then_writes_all_then_nothing_the_second_time(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    data = rows(sheet_row(), sheet_row(student_no="1150002", name="謝承翰", national_id="F131104093", user_id=S2))
    preview = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), data)
    assert preview["summary"] == {"created": 2, "updated": 0, "unchanged": 0} and not preview["written"]
    assert uow.students.rows == {}
    done = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), data, dry_run=False, basis=preview["basis"])
    assert done["written"] and len(uow.students.rows) == 2 and len(uow.history.rows) == 2
    again = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), data, dry_run=False)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2} and len(uow.history.rows) == 2
    assert first_broken_link(uow.history.rows) is None


def test_import_preview_shows_what_each_row_changes_field_by_field(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    first = rows(sheet_row(seat_no="3", gender="2", status="在學"),
                 sheet_row(student_no="1150002", name="謝承翰", national_id="F131104093", user_id=S2, gender="1"))
    importing.run_import(uow, IMPORTERS["student_profile"], ctx(), first, dry_run=False)
    second = rows(sheet_row(seat_no="3", gender="2", status="在學"),  # as stored
                  sheet_row(student_no="1150002", name="謝承瀚", national_id="f131104093", user_id=S2, gender="2",
                            class_code="102", class_name="一乙", seat_no="7", birth_date="0940401", status="休學"),
                  sheet_row(student_no="1150003", name="新同學", national_id="A223456781", user_id=str(uuid.uuid4())))
    preview = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), second)
    by_row = {r["row"]: r for r in preview["rows"]}
    assert [r["action"] for r in preview["rows"]] == ["unchanged", "updated", "created"]
    assert by_row[2]["changes"] == [] and "changes" not in by_row[4]
    assert {c["field"]: (c["before"], c["after"]) for c in by_row[3]["changes"]} == {
        "class_code": ("101", "102"), "class_name": ("一甲", "一乙"), "seat_no": (None, 7),
        "name": ("謝承翰", "謝承瀚"), "birth_date": ("2005-03-15", "2005-04-01"), "gender": ("1", "2"),
        "status": ("enrolled", "suspended")}  # the national ID typed in lower case is the same one
    assert [c["field"] for c in by_row[3]["changes"]][:2] == ["class_code", "class_name"]  # the preview's order
    assert uow.students.rows and len(uow.history.rows) == 2  # a preview writes nothing


def test_a_corrected_national_id_shows_masked_on_both_sides_in_the_preview(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(sheet_row()), dry_run=False)
    preview = importing.run_import(uow, IMPORTERS["student_profile"], ctx(),
                                   rows(sheet_row(national_id="A123456887")))
    (row,) = preview["rows"]
    assert row["changes"] == [{"field": "national_id", "before": "A12*****89", "after": "A12*****87"}]
    assert "A123456789" not in str(preview) and "A123456887" not in str(preview)
    next_year = importing.run_import(uow, IMPORTERS["student_profile"], profile.ctx_of(reg, VAULT, dict(OPTS, school_year=116)),
                                     rows(sheet_row()))
    assert next_year["rows"][0]["changes"] == [{"field": "school_year", "before": 115, "after": 116}]


def test_a_preview_with_a_problem_shows_no_changes(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(sheet_row()), dry_run=False)
    res = importing.run_import(uow, IMPORTERS["student_profile"], ctx(),
                               rows(sheet_row(name="改名"), sheet_row(student_no="1150002", national_id="A123456788")))
    assert res["problems"] and all(r["action"] is None and "changes" not in r for r in res["rows"])


def test_the_diff_of_two_profiles_is_field_by_field_in_order():
    from records.profile import domain
    before = {"class_code": "101", "seat_no": 3, "name": "甲", "national_id": "A12*****89", "gender": "1"}
    after = {"class_code": "101", "seat_no": 4, "name": "乙", "national_id": "A12*****89", "gender": "1",
             "national_id_changed": True}
    assert domain.changes(before, after) == [
        {"field": "seat_no", "before": 3, "after": 4}, {"field": "name", "before": "甲", "after": "乙"},
        {"field": "national_id", "before": "A12*****89", "after": "A12*****89"}]  # masks alike, numbers not
    assert domain.changes(before, dict(before)) == []
    assert domain.changes(before, {"name": "甲"}) == []  # a field the file does not give is no change


def test_one_bad_row_refuses_the_whole_file(uow):
    reg = registrar()
    data = rows(sheet_row(), sheet_row(student_no="1150002", name="游子?", national_id="F131104093", user_id=S2),
                sheet_row(student_no="1150003", national_id="A123456788", user_id=str(uuid.uuid4())))
    res = importing.run_import(uow, IMPORTERS["student_profile"], profile.ctx_of(reg, VAULT, OPTS), data, dry_run=False)
    assert not res["written"] and uow.students.rows == {} and uow.history.rows == []
    assert [(p["row"], p["column"], p["code"]) for p in res["problems"]] == [
        (3, "name", "character_lost"), (4, "national_id", "national_id_checksum")]
    assert all(r["action"] is None for r in res["rows"])


def test_duplicates_inside_a_file_and_accounts_that_are_not_students(uow):
    reg = registrar()
    data = rows(sheet_row(), sheet_row(name="重複"), sheet_row(student_no="1150005", national_id="F131104093",
                                                              user_id=S2, account_roles="subject_teacher"))
    res = importing.run_import(uow, IMPORTERS["student_profile"], profile.ctx_of(reg, VAULT, OPTS), data)
    got = {(p["row"], p["column"], p["code"]) for p in res["problems"]}
    assert (3, "student_no", "duplicate_in_file") in got and (4, "username", "student_account_missing") in got
    assert next(p for p in res["problems"] if p["code"] == "duplicate_in_file")["params"] == {"first_row": 2}


def test_a_change_after_the_preview_refuses_the_import(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    preview = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(sheet_row(name="匯入的名字", class_name="")))
    profile.update_student(uow, VAULT, reg, got["id"], form(name="表單改的名字"), 1, OPTS)
    with pytest.raises(PortfolioError) as e:
        importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(sheet_row(name="匯入的名字", class_name="")),
                             dry_run=False, basis=preview["basis"])
    assert e.value.code == "stale_record"
    assert profile.get_student(uow, VAULT, reg, got["id"])["name"] == "表單改的名字"


def test_a_status_change_is_dated_attributed_published_and_kept(uow):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    ch = status.record_status_change(uow, reg, got["id"], {"change": "轉出", "effective_on": "115/02/10",
                                                           "other_school_code": "11301"})
    assert (ch["change"], ch["other_school_code"], ch["school_year"], ch["semester"]) == ("transfer_out", "011301", 114, 2)
    (event,) = uow.events
    assert event["event"] == "student-status-changed" and event["payload"] == {
        "student_id": got["id"], "student_user_id": S1, "change": "transfer_out", "effective_on": "2026-02-10",
        "other_school_code": "011301", "school_year": 114, "semester": 2}
    assert profile.get_student(uow, VAULT, reg, got["id"])["status"] == "transferred_out"
    again = status.record_status_change(uow, reg, got["id"], {"change": "transfer_out", "effective_on": "2026-02-10",
                                                              "other_school_code": "011301"})
    assert again["id"] == ch["id"] and len(uow.events) == 1  # the same change twice is one item
    voided = status.void_status_change(uow, reg, ch["id"], 1, "日期登錄錯誤")
    assert voided["voided_at"] and voided["void_reason"] == "日期登錄錯誤"
    assert [c["id"] for c in status.list_status_changes(uow, student(S1), got["id"])] == [ch["id"]]  # kept, marked
    with pytest.raises(PortfolioError) as e:
        status.void_status_change(uow, reg, ch["id"], 1, "again")
    assert e.value.code == "stale_record"
    assert [h["action"] for h in uow.history.rows] == ["created", "created", "status_changed", "voided"]


@pytest.mark.parametrize("data,field,code", [
    ({"change": "transfer_in", "effective_on": "2026-02-01"}, "other_school_code", "other_school_required"),
    ({"change": "repeat", "effective_on": "2026-02-01", "other_school_code": "011301"}, "other_school_code",
     "other_school_not_expected"),
    ({"change": "fly_away", "effective_on": "2026-02-01"}, "change", "code_unknown"),
    ({"change": "repeat", "effective_on": "115/02/30"}, "effective_on", "date_impossible"),
    ({"change": "visiting_study", "effective_on": "2026-02-01", "other_school_code": "12"}, "other_school_code",
     None),
])
def test_bad_status_changes_are_refused_by_field(uow, data, field, code):
    reg = registrar()
    got = profile.create_student(uow, VAULT, reg, form(), OPTS)
    if code is None:  # "12" is a school code that lost its leading zeros: read as 000012
        assert status.record_status_change(uow, reg, got["id"], data)["other_school_code"] == "000012"
        return
    with pytest.raises(PortfolioError) as e:
        status.record_status_change(uow, reg, got["id"], data)
    assert (field, code) in [(p["field"], p["code"]) for p in e.value.details["problems"]]
    assert uow.events == []


def test_status_changes_import_by_student_number(uow):
    reg = registrar()
    profile.create_student(uow, VAULT, reg, form(), OPTS)
    data = rows({"student_no": "1150001", "change": "借讀", "effective_on": "1150301", "other_school_code": "011301"},
                {"student_no": "9999999", "change": "重讀", "effective_on": "1150301"})
    res = importing.run_import(uow, STATUS_IMPORTERS["status_change"], {"caller": reg}, data, dry_run=False)
    assert not res["written"] and [(p["row"], p["code"]) for p in res["problems"]] == [(3, "student_unknown")]
    res = importing.run_import(uow, STATUS_IMPORTERS["status_change"], {"caller": reg}, data[:1], dry_run=False)
    assert res["written"] and [e["payload"]["change"] for e in uow.events] == ["visiting_study"]
    res = importing.run_import(uow, STATUS_IMPORTERS["status_change"], {"caller": reg}, data[:1], dry_run=False)
    assert res["summary"]["unchanged"] == 1 and len(uow.events) == 1


@pytest.mark.parametrize("bad", [None, "rows", [{"row": "2", "cells": {}}], [{"row": 2}], [{"row": 2, "cells": []}]])
def test_malformed_requests_are_refused_cleanly(uow, bad):
    with pytest.raises(PortfolioError) as e:
        importing.run_import(uow, IMPORTERS["student_profile"], profile.ctx_of(registrar(), VAULT, OPTS), bad)
    assert e.value.code == "import_rows_invalid"


def test_moving_a_student_to_another_class_never_renames_that_class(uow):
    # QA: a student of 101 moved to 102 with 101's name still in the form renamed 102 for everyone
    reg = registrar()
    moved = profile.create_student(uow, VAULT, reg, form(), OPTS)
    other = profile.create_student(uow, VAULT, reg, form(student_no="1150002", national_id="F131104093", user_id=S2,
                                                         class_code="102", class_name="資料處理科一年乙班"), OPTS)
    with pytest.raises(PortfolioError) as e:
        profile.update_student(uow, VAULT, reg, moved["id"], form(class_code="102"), 1, OPTS)
    assert [(p["field"], p["code"], p["params"]) for p in e.value.details["problems"]] == [
        ("class_name", "class_name_differs", {"class_code": "102", "class_name": "資料處理科一年乙班"})]
    assert profile.get_student(uow, VAULT, reg, moved["id"])["class_code"] == "101"  # nothing written
    got = profile.update_student(uow, VAULT, reg, moved["id"], form(class_code="102", class_name=""), 1, OPTS)
    assert (got["class_code"], got["class_name"]) == ("102", "資料處理科一年乙班")
    assert profile.get_student(uow, VAULT, reg, other["id"])["class_name"] == "資料處理科一年乙班"
    last = uow.history.rows[-1]
    assert last["before"] == {"class_code": "101"} and last["after"] == {"class_code": "102"}


def test_an_import_row_never_renames_an_existing_class(uow):
    reg = registrar()
    ctx = lambda: profile.ctx_of(reg, VAULT, OPTS)  # noqa: E731
    importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(sheet_row()), dry_run=False)
    res = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(
        sheet_row(student_no="1150002", name="謝承翰", national_id="F131104093", user_id=S2, class_name="一乙")),
        dry_run=False)
    assert [(p["row"], p["column"], p["code"]) for p in res["problems"]] == [(2, "class_name", "class_name_differs")]
    assert uow.students.find_class("day", 115, "101")["name"] == "一甲" and len(uow.students.rows) == 1
    # the same name, or none, joins the class; a new code with a name creates its class
    res = importing.run_import(uow, IMPORTERS["student_profile"], ctx(), rows(
        sheet_row(student_no="1150002", name="謝承翰", national_id="F131104093", user_id=S2, class_name=""),
        sheet_row(student_no="1150003", name="新同學", national_id="A223456781", user_id=str(uuid.uuid4()),
                  class_code="103", class_name="一丙")), dry_run=False)
    assert res["summary"]["created"] == 2 and uow.students.find_class("day", 115, "103")["name"] == "一丙"
    assert uow.students.find_class("day", 115, "101")["name"] == "一甲"
