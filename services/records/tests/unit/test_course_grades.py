"""Course records (修課紀錄) over the fake unit of work: the grade sheet's rules (0-100 whole
numbers, pass mark 60 and its exception, make-up, credits counted, 進修部 yearly grade), a grade
only for an enrolled student, who writes and who reads, the history, the grade-sheet and
elective imports."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common.errors import PortfolioError
from records import importing
from records.courses import domain, usecases
from records.courses.importer import IMPORTERS
from records.unit_of_work import FakeRecordsUnitOfWork

TODAY = dt.date(2026, 11, 20)
HOMEROOM_101 = str(uuid.uuid4())
TEACHER = str(uuid.uuid4())


def who(role, tenant="day", uid=None):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=f"u_{role}", tenant=tenant, roles=(role,))


@pytest.fixture()
def school():
    uow = FakeRecordsUnitOfWork()
    out = {"uow": uow, "users": {}}
    for tenant, code, no, homeroom in (("day", "101", "1150001", HOMEROOM_101), ("day", "101", "1150002", HOMEROOM_101),
                                       ("day", "102", "1150003", None), ("ce", "501", "N1150001", None)):
        class_id = uow.students.ensure_class(tenant, 115, code, f"{code}班")
        uow.students.classes[(tenant, 115, code)]["homeroom_user_id"] = homeroom and uuid.UUID(homeroom)
        uid = uuid.uuid4()
        sid = uow.students.add({"tenant": tenant, "user_id": uid, "student_no": no, "name": f"學生{no}",
                                "class_id": class_id, "seat_no": int(no[-1]), "national_id_enc": b"x",
                                "national_id_hash": no})
        out[no], out["users"][no] = sid, str(uid)
    base = {"school_year": 115, "grade_level": 1, "teacher_user_id": uuid.UUID(TEACHER)}
    out["prog"] = uow.sections.add(base | {"tenant": "day", "semester": 1, "course_code": "115050407H11A0101",
                                           "subject_name": "程式設計", "class_code": "101", "credits": 3})
    out["db"] = uow.sections.add(base | {"tenant": "day", "semester": 1, "course_code": "115050407H11B0201",
                                         "subject_name": "資料庫", "class_code": "102", "credits": 2,
                                         "teacher_user_id": uuid.uuid4()})
    out["ce_s2"] = uow.sections.add(base | {"tenant": "ce", "semester": 2, "course_code": "115050407N11A0101",
                                            "subject_name": "國語文", "class_code": "501", "class_hours": 4})
    uow.sections.enrol(out["prog"], out["1150001"])
    uow.sections.enrol(out["prog"], out["1150002"])
    uow.sections.enrol(out["db"], out["1150003"])
    uow.sections.enrol(out["ce_s2"], out["N1150001"])
    return out


def grade(**over):
    return {"course_code": "115050407H11A0101", "school_year": "115", "semester": "1", "semester_grade": "72"} | over


def err(fn, *args, **kw):
    with pytest.raises(PortfolioError) as e:
        fn(*args, **kw)
    return e.value


def codes(e):
    return {(p["field"], p["code"]) for p in e.details["problems"]}


# --- the grade sheet's rules ---------------------------------------------------------------

def test_flags_follow_the_grade_when_left_empty():
    values, problems = domain.read_grade(grade(semester_grade="59", makeup_grade="60"))
    assert not problems
    assert (values["passed"], values["makeup_passed"], values["credit_counted"]) == (False, True, True)
    values, _ = domain.read_grade(grade(semester_grade="45"))
    assert (values["passed"], values["makeup_passed"], values["credit_counted"]) == (False, None, False)
    values, _ = domain.read_grade(grade(semester_grade="60"))
    assert values["passed"] is True and values["credit_counted"] is True


@pytest.mark.parametrize("raw,ok", [("0", 0), ("100", 100), ("８５", 85), ('="85"', 85), (" 85 ", 85),
                                    ("101", None), ("-1", None), ("85.5", None), ("A", None)])
def test_grades_are_whole_numbers_0_to_100(raw, ok):
    values, problems = domain.read_grade(grade(semester_grade=raw))
    if ok is None:
        assert ("semester_grade", "grade_invalid") in {(f, c) for f, c, _ in problems}
    else:
        assert not problems and values["semester_grade"] == ok


@pytest.mark.parametrize("raw,code", [('="115050407H11A0101"', "115050407H11A0101"),
                                      ("１１５０５０４０７ｈ１１ａ０１０１", "115050407H11A0101")])
def test_course_code_spellings(raw, code):
    values, problems = domain.read_grade(grade(course_code=raw))
    assert not problems and values["course_code"] == code


@pytest.mark.parametrize("raw", ["115-0504", "程式設計", "115/050407", "A" * 41])
def test_malformed_course_code_refused(raw):
    _, problems = domain.read_grade(grade(course_code=raw))
    assert ("course_code", "course_code_malformed") in {(f, c) for f, c, _ in problems}


def test_pass_flag_must_agree_with_the_grade_unless_the_school_marks_an_exception():
    _, problems = domain.read_grade(grade(semester_grade="55", passed="是"))
    assert ("passed", "pass_flag_inconsistent") in {(f, c) for f, c, _ in problems}
    values, problems = domain.read_grade(grade(semester_grade="55", passed="是", pass_exception="是"))
    assert not problems and values["passed"] is True and values["pass_exception"] is True
    _, problems = domain.read_grade(grade(semester_grade="75", passed="否"))
    assert ("passed", "pass_flag_inconsistent") in {(f, c) for f, c, _ in problems}
    _, problems = domain.read_grade(grade(semester_grade="40", credit_counted="Y"))
    assert {(f, c) for f, c, _ in problems} == {("credit_counted", "credit_flag_inconsistent")}
    _, problems = domain.read_grade(grade(passed="maybe"))
    assert {(f, c) for f, c, _ in problems} == {("passed", "flag_invalid")}


def test_make_up_only_after_a_failed_grade():
    _, problems = domain.read_grade(grade(semester_grade="70", makeup_grade="80"))
    assert {(f, c) for f, c, _ in problems} == {("makeup_grade", "makeup_not_allowed")}
    _, problems = domain.read_grade(grade(semester_grade="50", makeup_passed="是"))
    assert ("makeup_passed", "makeup_grade_missing") in {(f, c) for f, c, _ in problems}
    _, problems = domain.read_grade(grade(semester_grade="50", makeup_grade="50", makeup_passed="是"))
    assert ("makeup_passed", "pass_flag_inconsistent") in {(f, c) for f, c, _ in problems}


def test_yearly_grade_only_on_the_second_semester():
    _, problems = domain.read_grade(grade(yearly_grade="70"))
    assert ("yearly_grade", "yearly_grade_second_semester") in {(f, c) for f, c, _ in problems}
    values, problems = domain.read_grade(grade(semester="2", yearly_grade="58"))
    assert not problems and values["yearly_passed"] is False


def test_missing_fields_named():
    _, problems = domain.read_grade({})
    assert {f for f, c, _ in problems if c == "field_missing"} == {"course_code", "school_year", "semester",
                                                                  "semester_grade"}


# --- use cases -----------------------------------------------------------------------------

def test_registrar_records_a_grade_with_history_and_the_student_reads_it(school):
    uow, reg = school["uow"], who("registrar")
    item = usecases.record_grade(uow, reg, school["1150001"], grade(semester_grade="58", makeup_grade="65",
                                                                    remark="實作認真"))
    assert item["subject_name"] == "程式設計" and item["credits"] == 3 and item["passed"] is False
    assert item["makeup_passed"] is True and item["credit_counted"] is True and item["version"] == 1
    hist = [r for r in uow.history.rows if r["entity"] == "course_grade"]
    assert [r["action"] for r in hist] == ["created"] and hist[0]["after"]["semester_grade"] == 58
    assert hist[0]["actor_username"] == "u_registrar"
    me = who("student", uid=school["users"]["1150001"])
    assert [g["semester_grade"] for g in usecases.list_grades(uow, me)] == [58]
    again = usecases.record_grade(uow, reg, school["1150001"], grade(semester_grade="58", makeup_grade="65",
                                                                     remark="實作認真"))
    assert again["id"] == item["id"]  # a retried form
    assert codes(err(usecases.record_grade, uow, reg, school["1150001"], grade(semester_grade="90"))) == {
        ("course_code", "item_exists")}
    changed = usecases.update_grade(uow, reg, item["id"], grade(semester_grade="61"), 1)
    assert changed["version"] == 2 and changed["makeup_grade"] is None
    hist = [r for r in uow.history.rows if r["entity"] == "course_grade"]
    assert hist[-1]["before"]["semester_grade"] == 58 and hist[-1]["after"]["semester_grade"] == 61
    assert err(usecases.update_grade, uow, reg, item["id"], grade(semester_grade="62"), 1).code == "stale_record"
    voided = usecases.void_grade(uow, reg, item["id"], 2, "登錄錯誤")
    assert voided["voided_at"] and voided["void_reason"] == "登錄錯誤"


def test_a_grade_only_for_an_enrolled_student_of_a_known_course(school):
    uow, reg = school["uow"], who("registrar")
    assert codes(err(usecases.record_grade, uow, reg, school["1150003"], grade())) == {("course_code", "student_not_enrolled")}
    assert codes(err(usecases.record_grade, uow, reg, school["1150001"], grade(course_code="115050407H11Z9999"))) == {
        ("course_code", "course_code_unknown")}
    assert codes(err(usecases.record_grade, uow, reg, school["1150001"], grade(semester="2"))) == {
        ("course_code", "course_code_unknown")}  # the code runs in semester 1 only
    assert not uow.course_grades.rows


def test_yearly_grade_only_for_a_ce_section(school):
    uow = school["uow"]
    ce_reg = who("registrar", tenant="ce")
    item = usecases.record_grade(uow, ce_reg, school["N1150001"], grade(
        course_code="115050407N11A0101", semester="2", semester_grade="70", yearly_grade="66"))
    assert item["class_hours"] == 4 and item["credits"] is None and item["yearly_passed"] is True
    assert codes(err(usecases.record_grade, uow, who("registrar"), school["1150001"], grade(
        course_code="115050407H11A0101", yearly_grade="66", semester="1"))) == {
        ("yearly_grade", "yearly_grade_second_semester")}


def test_only_the_registrar_writes_grades(school):
    uow = school["uow"]
    for role in ("student", "homeroom_teacher", "subject_teacher", "elective_officer", "discipline_section"):
        assert err(usecases.record_grade, uow, who(role), school["1150001"], grade()).code == "not_allowed"
    # the other tenant's registrar cannot reach this tenant's student
    assert err(usecases.record_grade, uow, who("registrar", tenant="ce"), school["1150001"], grade()).code == "not_found"


def test_readers_of_grades(school):
    uow, reg = school["uow"], who("registrar")
    usecases.record_grade(uow, reg, school["1150001"], grade())
    homeroom = who("homeroom_teacher", uid=HOMEROOM_101)
    cls = usecases.list_grades(uow, homeroom, class_code="101")
    assert [(c["student"]["student_no"], [i["semester_grade"] for i in c["items"]]) for c in cls] == [
        ("1150001", [72]), ("1150002", [])]
    assert cls[0]["items"][0]["subject_name"] == "程式設計"
    assert usecases.list_grades(uow, homeroom, student_id=school["1150001"])[0]["semester_grade"] == 72
    # another homeroom teacher, another student, another tenant: not found
    assert err(usecases.list_grades, uow, who("homeroom_teacher"), class_code="101").code == "not_found"
    assert err(usecases.list_grades, uow, who("homeroom_teacher"), student_id=school["1150001"]).code == "not_found"
    other = who("student", uid=school["users"]["1150002"])
    assert err(usecases.list_grades, uow, other, student_id=school["1150001"]).code == "not_found"
    assert err(usecases.list_grades, uow, who("registrar", tenant="ce"), student_id=school["1150001"]).code == "not_found"
    # the subject teacher reads their own section's grades, not another's
    teacher = who("subject_teacher", uid=TEACHER)
    sheet = usecases.list_section_grades(uow, teacher, school["prog"])
    assert [(r["student"]["student_no"], r["grade"] and r["grade"]["semester_grade"]) for r in sheet["students"]] == [
        ("1150001", 72), ("1150002", None)]
    assert err(usecases.list_section_grades, uow, teacher, school["db"]).code == "not_found"
    assert err(usecases.list_section_grades, uow, who("subject_teacher"), school["prog"]).code == "not_found"
    assert err(usecases.list_section_grades, uow, who("registrar", tenant="ce"), school["prog"]).code == "not_found"


def test_grade_sheet_import_all_or_nothing_and_idempotent(school):
    uow, reg = school["uow"], who("registrar")
    imp = IMPORTERS["course_grade"]
    rows = [{"row": 2, "cells": {"student_no": "1150001", **grade(semester_grade="88")}},
            {"row": 3, "cells": {"student_no": "1150002", **grade(semester_grade="52", makeup_grade="61")}}]
    bad = rows + [{"row": 4, "cells": {"student_no": "1150003", **grade()}},
                  {"row": 5, "cells": {"student_no": "1150002", **grade(course_code="程式")}},
                  {"row": 6, "cells": {"student_no": "1150001", **grade(semester_grade="120")}}]
    result = importing.run_import(uow, imp, {"caller": reg}, bad, dry_run=False)
    assert not result["written"] and {(p["row"], p["column"], p["code"]) for p in result["problems"]} >= {
        (4, "course_code", "student_not_enrolled"), (5, "course_code", "course_code_malformed"),
        (6, "semester_grade", "grade_invalid")}
    assert not uow.course_grades.rows
    preview = importing.run_import(uow, imp, {"caller": reg}, rows)
    assert not preview["problems"], preview["problems"]
    result = importing.run_import(uow, imp, {"caller": reg}, rows, dry_run=False, basis=preview["basis"])
    assert result["written"] and result["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    again = importing.run_import(uow, imp, {"caller": reg}, rows, dry_run=False)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    rows[1]["cells"]["makeup_grade"] = "58"
    changed = importing.run_import(uow, imp, {"caller": reg}, rows, dry_run=False)
    assert changed["summary"] == {"created": 0, "updated": 1, "unchanged": 1}
    hist = [r for r in uow.history.rows if r["entity"] == "course_grade"]
    assert [r["action"] for r in hist] == ["created", "created", "updated"]
    assert hist[-1]["before"] == {"makeup_grade": 61, "makeup_passed": True, "credit_counted": True}
    assert err(importing.run_import, uow, imp, {"caller": who("elective_officer")}, rows).code == "not_allowed"


def test_elective_officer_enrols_by_form_and_import(school):
    uow, officer = school["uow"], who("elective_officer")
    data = {"course_code": "115050407H11B0201", "school_year": "115", "semester": "1"}
    out = usecases.enrol_elective(uow, officer, school["1150001"], data)
    assert out["enrolled"] and out["subject_name"] == "資料庫"
    assert usecases.enrol_elective(uow, officer, school["1150001"], data)["enrolled"] is False
    hist = [r for r in uow.history.rows if r["entity"] == "enrolment"]
    assert len(hist) == 1 and hist[0]["after"]["course_code"] == "115050407H11B0201"
    assert str(hist[0]["student_id"]) == str(school["1150001"])
    # now the registrar may grade that elective
    usecases.record_grade(uow, who("registrar"), school["1150001"], grade(course_code="115050407H11B0201"))
    assert err(usecases.enrol_elective, uow, who("registrar"), school["1150002"], data).code == "not_allowed"
    assert err(usecases.enrol_elective, uow, who("elective_officer", tenant="ce"), school["1150002"], data).code == "not_found"
    assert codes(err(usecases.enrol_elective, uow, officer, school["1150002"], dict(data, course_code="X1"))) == {
        ("course_code", "course_code_unknown")}
    imp = IMPORTERS["elective"]
    rows = [{"row": 2, "cells": {"student_no": "1150001", **data}}, {"row": 3, "cells": {"student_no": "1150002", **data}}]
    result = importing.run_import(uow, imp, {"caller": officer}, rows, dry_run=False)
    assert result["written"] and result["summary"] == {"created": 1, "updated": 0, "unchanged": 1}
    again = importing.run_import(uow, imp, {"caller": officer}, rows, dry_run=False)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    dup = importing.run_import(uow, imp, {"caller": officer}, rows + [{"row": 4, "cells": rows[0]["cells"]}])
    assert {(p["row"], p["code"]) for p in dup["problems"]} == {(4, "duplicate_in_file")}


def test_grades_in_my_records_and_the_class_view(school):
    from records.itemviews import usecases as views
    uow = school["uow"]
    usecases.record_grade(uow, who("registrar"), school["1150001"], grade(semester_grade="91"))
    mine = views.my_records(uow, who("student", uid=school["users"]["1150001"]))
    assert [(g["subject_name"], g["semester_grade"], g["credits"]) for g in mine["kinds"]["course_grade"]] == [
        ("程式設計", 91, 3)]
    view = views.class_records(uow, who("homeroom_teacher", uid=HOMEROOM_101), "101")
    assert view["kinds"]["course_grade"][str(school["1150001"])][0]["semester_grade"] == 91
    import json
    json.dumps(view), json.dumps(mine)  # what the RPC sends


def test_a_section_counts_credits_or_class_hours():
    from marshmallow import ValidationError
    from records.schemas import SectionIn
    base = {"course_code": "115050407N11A0101", "subject_name": "國語文", "class_code": "501", "grade_level": 1,
            "teacher_user_id": str(uuid.uuid4())}
    assert SectionIn().load(base | {"class_hours": 4})["class_hours"] == 4  # 進修部: 節數
    assert SectionIn().load(base | {"credits": 3})["class_hours"] is None   # 日間部: 學分
    with pytest.raises(ValidationError):
        SectionIn().load(base)
