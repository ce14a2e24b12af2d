"""Staff-entered items (consultation, career plan, attendance, activities, competitions) over the
fake unit of work: the field rules, who may write and read, history, versions, imports."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common.errors import PortfolioError
from records import importing, itemkit
from records.activities import domain as activities_domain
from records.activities.usecases import KIND as ACTIVITY
from records.attendance import domain as attendance_domain
from records.attendance.importer import IMPORTERS as ATTENDANCE_IMPORTERS
from records.attendance.usecases import KIND as ATTENDANCE
from records.career.usecases import KIND as CAREER
from records.consultation import domain as consultation_domain
from records.consultation.usecases import KIND as CONSULTATION
from records.history import first_broken_link
from records.itemviews import usecases as views
from records.unit_of_work import FakeRecordsUnitOfWork

TODAY = dt.date(2026, 11, 20)
HOMEROOM_101 = str(uuid.uuid4())


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
    return out


def consultation(**over):
    return {"held_on": "115/11/03", "held_at": "12:10-13:00", "place": "輔導室", "content": "選修課程的安排",
            "advice": "二年級選修資料庫"} | over


def err(fn, *args):
    with pytest.raises(PortfolioError) as e:
        fn(*args)
    return e.value


# --- field rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw,out", [("14:30", "14:30"), ("1430", "14:30"), ("９：０５", "09:05"),
                                     ("12:10-13:00", "12:10-13:00"), ("12:10~13:00", "12:10-13:00"),
                                     ("25:00", None), ("13:00-12:00", None), ("noon", None), ("", None)])
def test_consultation_time_of_day(raw, out):
    assert consultation_domain.read_time(raw) == out


def test_consultation_fields_each_refused_by_field():
    values, problems = consultation_domain.read_consultation(consultation(), today=TODAY)
    assert not problems and values["held_on"] == dt.date(2026, 11, 3) and (values["school_year"], values["semester"]) == (115, 1)
    _, problems = consultation_domain.read_consultation(
        consultation(held_on="115/02/30", held_at="9點", place="", advice="字" * 501), today=TODAY)
    assert {(f, c) for f, c, _ in problems} == {("held_on", "date_impossible"), ("held_at", "time_invalid"),
                                                ("place", "field_missing"), ("advice", "text_too_long")}
    _, problems = consultation_domain.read_consultation(consultation(held_on="2026-12-25"), today=TODAY)
    assert ("held_on", "date_in_future") in {(f, c) for f, c, _ in problems}


@pytest.mark.parametrize("raw,code", [("02", "02"), ("2", "02"), ("０２", "02"), ("事假", "02"), ("12 曠課", "12"),
                                      ("曠課", "12"), ("13", None), ("00", None), ("遲到", None)])
def test_national_absence_codes(raw, code):
    assert attendance_domain.read_code(raw) == code


def test_attendance_needs_the_term_and_a_period_count():
    values, problems = attendance_domain.read_attendance({"school_year": "115", "semester": "1", "absence_code": "03",
                                                          "periods": "７"})
    assert not problems and values == {"absence_code": "03", "periods": 7, "school_year": 115, "semester": 1}
    _, problems = attendance_domain.read_attendance({"semester": "3", "absence_code": "99", "periods": "-1"})
    assert {(f, c) for f, c, _ in problems} == {("absence_code", "absence_code_unknown"), ("periods", "periods_invalid"),
                                                ("semester", "semester_invalid"), ("school_year", "field_missing")}


def test_activity_rules_per_category():
    ok = {"school_year": "115", "semester": "1", "category": "幹部", "name": "101班", "position": "班長"}
    assert not activities_domain.read_activity(ok, today=TODAY)[1]
    _, problems = activities_domain.read_activity(ok | {"position": ""}, today=TODAY)
    assert ("position", "field_missing") in {(f, c) for f, c, _ in problems}
    _, problems = activities_domain.read_activity(ok | {"category": "志工", "hours": "0", "started_on": "115/10/2",
                                                        "ended_on": "115/10/1"}, today=TODAY)
    assert {(f, c) for f, c, _ in problems} >= {("hours", "hours_invalid"), ("ended_on", "date_order")}
    _, problems = activities_domain.read_activity(ok | {"category": "打工"}, today=TODAY)
    assert ("category", "code_unknown") in {(f, c) for f, c, _ in problems}


# --- who writes ----------------------------------------------------------------------------

def test_the_consultation_teacher_records_and_the_history_keeps_who_and_what(school):
    uow, teacher = school["uow"], who("consultation_teacher")
    item = itemkit.record_item(uow, CONSULTATION, teacher, school["1150001"], consultation())
    assert (item["place"], item["held_on"], item["recorded_by_username"], item["version"]) == (
        "輔導室", "2026-11-03", "u_consultation_teacher", 1)
    rows = uow.history.of_record("day", "consultation", item["id"])
    assert [(r["action"], r["actor_username"], r["after"]["advice"]) for r in rows] == [
        ("created", "u_consultation_teacher", "二年級選修資料庫")]
    assert first_broken_link(uow.history.rows) is None
    assert CONSULTATION.exported is False  # consultation records never leave the school


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"


@pytest.mark.parametrize("ch", list(BIDI), ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_a_units_record_never_keeps_a_bidi_control(school, ch):
    """A tester stored RIGHT-TO-LEFT OVERRIDE in a unit's record, which shows a name reversed:
    every bidi control, first, inside or last in a field, is dropped (portfolio_common.text)."""
    from records.competition.usecases import KIND as COMPETITION
    uow, unit = school["uow"], who("organising_unit")
    item = itemkit.record_item(uow, COMPETITION, unit, school["1150001"], {
        "name": f"{ch}英語演講比賽", "content": f"高一{ch}組", "result": f"第一名{ch}", "announced_on": "115/10/14"})
    assert (item["name"], item["content"], item["result"]) == ("英語演講比賽", "高一組", "第一名")
    assert ch not in str(uow.history.rows)


@pytest.mark.parametrize("role", ["student", "homeroom_teacher", "guidance_counsellor", "registrar",
                                  "discipline_section"])
def test_only_the_responsible_unit_writes_a_consultation(school, role):
    e = err(itemkit.record_item, school["uow"], CONSULTATION, who(role, uid=school["users"]["1150001"]),
            school["1150001"], consultation())
    assert e.code == "not_allowed"


def test_a_student_of_the_other_tenant_is_not_found_to_the_writer(school):
    e = err(itemkit.record_item, school["uow"], CAREER, who("guidance_counsellor"), school["N1150001"],
            {"assessed_on": "115/10/01", "suggested_groups": "資訊學群", "career_plan": "升學"})
    assert e.code == "not_found"


def test_a_change_names_the_version_it_was_made_from_and_a_void_keeps_the_item(school):
    uow, teacher = school["uow"], who("consultation_teacher")
    item = itemkit.record_item(uow, CONSULTATION, teacher, school["1150001"], consultation())
    changed = itemkit.update_item(uow, CONSULTATION, teacher, item["id"], consultation(place="圖書館"), 1)
    assert (changed["place"], changed["version"]) == ("圖書館", 2)
    assert err(itemkit.update_item, uow, CONSULTATION, teacher, item["id"], consultation(place="別處"), 1).code == "stale_record"
    assert err(itemkit.void_item, uow, CONSULTATION, teacher, item["id"], 2, " ").code == "reason_required"
    voided = itemkit.void_item(uow, CONSULTATION, teacher, item["id"], 2, "誤植學生")
    assert voided["voided_at"] and voided["void_reason"] == "誤植學生"
    rows = uow.history.of_record("day", "consultation", item["id"])
    assert [r["action"] for r in rows] == ["created", "updated", "voided"]
    assert (rows[1]["before"], rows[1]["after"]) == ({"place": "輔導室"}, {"place": "圖書館"})
    assert len(itemkit.list_for_student(uow, CONSULTATION, teacher, school["1150001"])) == 1  # still listed


def test_the_same_attendance_count_twice_is_one_item(school):
    uow, disc = school["uow"], who("discipline_section")
    data = {"school_year": "115", "semester": "1", "absence_code": "02", "periods": "3"}
    first = itemkit.record_item(uow, ATTENDANCE, disc, school["1150001"], data)
    assert itemkit.record_item(uow, ATTENDANCE, disc, school["1150001"], data)["id"] == first["id"]
    e = err(itemkit.record_item, uow, ATTENDANCE, disc, school["1150001"], data | {"periods": "4"})
    assert e.code == "fields_invalid" and e.details["problems"][0]["code"] == "item_exists"


# --- who reads -----------------------------------------------------------------------------

def test_readers_of_a_consultation(school):
    uow = school["uow"]
    itemkit.record_item(uow, CONSULTATION, who("consultation_teacher"), school["1150001"], consultation())
    me = who("student", uid=school["users"]["1150001"])
    assert len(itemkit.list_mine(uow, CONSULTATION, me)) == 1
    assert len(itemkit.list_for_student(uow, CONSULTATION, me, school["1150001"])) == 1
    assert len(itemkit.list_for_student(uow, CONSULTATION, who("guidance_counsellor"), school["1150001"])) == 1
    homeroom = who("homeroom_teacher", uid=HOMEROOM_101)
    assert len(itemkit.list_for_student(uow, CONSULTATION, homeroom, school["1150001"])) == 1
    by_class = itemkit.list_for_class(uow, CONSULTATION, homeroom, "101")
    assert [(r["student"]["student_no"], len(r["items"])) for r in by_class] == [("1150001", 1), ("1150002", 0)]


@pytest.mark.parametrize("attacker", ["other_student", "other_homeroom", "other_tenant", "registrar", "subject_teacher"])
def test_others_read_a_consultation_like_a_missing_one(school, attacker):
    uow = school["uow"]
    itemkit.record_item(uow, CONSULTATION, who("consultation_teacher"), school["1150001"], consultation())
    caller = {"other_student": who("student", uid=school["users"]["1150002"]),
              "other_homeroom": who("homeroom_teacher"),  # a homeroom teacher of another class
              "other_tenant": who("consultation_teacher", tenant="ce"),
              "registrar": who("registrar"), "subject_teacher": who("subject_teacher")}[attacker]
    e = err(itemkit.list_for_student, uow, CONSULTATION, caller, school["1150001"])
    assert e.code == "not_found"
    if attacker == "other_tenant":  # its own tenant has no class 101: nothing of day's comes back
        assert itemkit.list_for_class(uow, CONSULTATION, caller, "101") == []
    else:
        assert err(itemkit.list_for_class, uow, CONSULTATION, caller, "101").code == "not_found"


def test_the_homeroom_teacher_sees_every_kind_of_their_class_only(school):
    uow = school["uow"]
    itemkit.record_item(uow, ATTENDANCE, who("discipline_section"), school["1150002"],
                        {"school_year": "115", "semester": "1", "absence_code": "03", "periods": "2"})
    homeroom = who("homeroom_teacher", uid=HOMEROOM_101)
    view = views.class_records(uow, homeroom, "101")
    assert set(view["kinds"]) == {"consultation", "career_assessment", "attendance", "activity", "competition",
                                 "course_grade"}
    assert view["kinds"]["attendance"][str(school["1150002"])][0]["periods"] == 2
    assert [c["code"] for c in views.item_classes(uow, homeroom)] == ["101"]
    assert err(views.class_records, uow, homeroom, "102").code == "not_found"
    assert err(views.class_records, uow, who("homeroom_teacher"), "101").code == "not_found"
    mine = views.my_records(uow, who("student", uid=school["users"]["1150002"]))
    assert mine["kinds"]["attendance"][0]["absence_code"] == "03" and mine["kinds"]["consultation"] == []


# --- imports -------------------------------------------------------------------------------

def test_attendance_import_all_or_nothing_and_idempotent(school):
    uow, disc = school["uow"], who("discipline_section")
    imp = ATTENDANCE_IMPORTERS["attendance"]
    rows = [{"row": 2, "cells": {"student_no": "1150001", "school_year": "115", "semester": "1", "absence_code": "事假",
                                 "periods": "4"}},
            {"row": 3, "cells": {"student_no": "1150002", "school_year": "115", "semester": "1", "absence_code": "12",
                                 "periods": "1"}}]
    bad = rows + [{"row": 4, "cells": {"student_no": "N1150001", "school_year": "115", "semester": "1",
                                       "absence_code": "13", "periods": "1"}}]
    result = importing.run_import(uow, imp, {"caller": disc}, bad, dry_run=False)
    assert not result["written"] and {(p["row"], p["column"], p["code"]) for p in result["problems"]} == {
        (4, "absence_code", "absence_code_unknown")}
    result = importing.run_import(uow, imp, {"caller": disc}, bad[:2] + [{"row": 4, "cells": dict(bad[2]["cells"], absence_code="01")}])
    assert {(p["row"], p["code"]) for p in result["problems"]} == {(4, "student_unknown")}  # the other tenant's
    preview = importing.run_import(uow, imp, {"caller": disc}, rows)
    result = importing.run_import(uow, imp, {"caller": disc}, rows, dry_run=False, basis=preview["basis"])
    assert result["written"] and result["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    again = importing.run_import(uow, imp, {"caller": disc}, rows, dry_run=False)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    rows[0]["cells"]["periods"] = "5"
    changed = importing.run_import(uow, imp, {"caller": disc}, rows, dry_run=False)
    assert changed["summary"] == {"created": 0, "updated": 1, "unchanged": 1}
    hist = [r for r in uow.history.rows if r["entity"] == "attendance"]
    assert [r["action"] for r in hist] == ["created", "created", "updated"]
    assert hist[-1]["before"] == {"periods": 4} and hist[-1]["after"] == {"periods": 5}
    assert err(importing.run_import, uow, imp, {"caller": who("activities_section")}, rows).code == "not_allowed"
