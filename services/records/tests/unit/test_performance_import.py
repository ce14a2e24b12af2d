"""The import of performances the school or an external body reports (one importer per sheet of
the 多元表現名冊) over the fake unit of work: the sheet's columns, source school | external,
all or nothing, the same file twice changes nothing, a changed row updates with history, only
the registrar and the organising unit, a student of the other tenant unknown, never counted
toward the student's 10."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common.errors import PortfolioError
from records import importing
from records.performances.importer import IMPORTERS
from records.unit_of_work import FakeRecordsUnitOfWork


def who(role, tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"u_{role}", tenant=tenant, roles=(role,))


@pytest.fixture
def uow():
    u = FakeRecordsUnitOfWork()
    for tenant, no in (("day", "1150001"), ("day", "1150002"), ("ce", "N1150001")):
        u.students.add({"tenant": tenant, "user_id": uuid.uuid4(), "student_no": no, "name": no,
                        "national_id_hash": no, "national_id_enc": b"x", "class_id": None, "seat_no": 1})
    return u


def licence(no="1150001", **over):
    return {"student_no": no, "entered_by": "校外機構", "licence_code": "17200", "score": "92",
            "obtained_on": "115/10/20", "licence_no": "1150012345", "group": "乙級",
            "description": "網頁設計乙級技術士"} | over


def rows(*cells):
    return [{"row": i + 2, "cells": c} for i, c in enumerate(cells)]


def test_every_sheet_has_an_importer_with_its_national_columns():
    assert set(IMPORTERS) == {"performance_competition", "performance_licence", "performance_work_based_learning",
                              "performance_work", "performance_advanced_course", "performance_other"}
    labels = [c["label"] for c in IMPORTERS["performance_licence"].columns]
    assert labels == ["學號", "來源", "證照代碼", "分數", "分項結果", "取得證照日期", "證照字號", "檢定組別", "內容簡述"]
    assert IMPORTERS["performance_licence"].roles == ("registrar", "organising_unit", "system")


def test_import_all_or_nothing_idempotent_and_attributed(uow):
    imp, org = IMPORTERS["performance_licence"], who("organising_unit")
    bad = rows(licence(), licence("1150002", obtained_on="115/02/30"), licence("N1150001"),
               licence("1150002", entered_by="學生"))
    result = importing.run_import(uow, imp, {"caller": org}, bad, dry_run=False)
    assert not result["written"] and not uow.performances.rows
    assert {(p["row"], p["column"], p["code"]) for p in result["problems"]} == {
        (3, "obtained_on", "date_impossible"), (4, "student_no", "student_unknown"), (5, "entered_by", "code_unknown")}
    good = rows(licence(), licence("1150002", entered_by="", licence_no="1150099999"))
    preview = importing.run_import(uow, imp, {"caller": org}, good)
    done = importing.run_import(uow, imp, {"caller": org}, good, dry_run=False, basis=preview["basis"])
    assert done["written"] and done["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    stored = sorted(uow.performances.rows.values(), key=lambda r: r["fields"]["licence_no"])
    assert [(r["entered_by"], r["state"], r["school_year"], r["recorded_via"]) for r in stored] == [
        ("external", "proof_missing", 115, "import"), ("school", "proof_missing", 115, "import")]
    assert stored[0]["fields"]["obtained_on"] == "2026-10-20"
    again = importing.run_import(uow, imp, {"caller": org}, good, dry_run=False)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    changed = importing.run_import(uow, imp, {"caller": org}, rows(licence(score="95"), good[1]["cells"]), dry_run=False)
    assert changed["summary"] == {"created": 0, "updated": 1, "unchanged": 1}
    hist = [r for r in uow.history.rows if r["entity"] == "performance"]
    assert [r["action"] for r in hist] == ["created", "created", "updated"]
    assert hist[-1]["before"]["fields"]["score"] == "92" and hist[-1]["after"]["fields"]["score"] == "95"
    assert len(uow.performances.rows) == 2


def test_duplicates_in_a_file_and_who_may_import(uow):
    imp = IMPORTERS["performance_licence"]
    dup = importing.run_import(uow, imp, {"caller": who("registrar")}, rows(licence(), licence(score="80")))
    assert {(p["row"], p["code"]) for p in dup["problems"]} == {(3, "duplicate_in_file")}
    for role in ("student", "homeroom_teacher", "discipline_section", "elective_officer"):
        with pytest.raises(PortfolioError) as e:
            importing.run_import(uow, imp, {"caller": who(role)}, rows(licence()))
        assert e.value.code == "not_allowed"


def test_competition_sheet_keeps_two_digit_codes(uow):
    imp = IMPORTERS["performance_competition"]
    cells = {"student_no": "1150001", "name": "全國技能競賽", "event": "網頁設計", "level_code": "03", "award": "佳作",
             "announced_on": "2026-11-20", "description": "全國技能競賽 網頁設計 佳作", "entered_by": "school"}
    result = importing.run_import(uow, imp, {"caller": who("registrar")}, rows(cells), dry_run=False)
    assert result["written"], result["problems"]
    (row,) = uow.performances.rows.values()
    assert row["fields"]["level_code"] == "03" and row["kind"] == "competition" and row["entered_by"] == "school"
