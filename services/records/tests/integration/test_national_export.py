"""records.national_export_fields against a real PostgreSQL database: only system:submission and
system may ask, only the caller's tenant answers, and every export is in the student's history."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from records import usecases
from records.nationalexport import usecases as export
from portfolio_common.crypto import NationalIdVault

VAULT = NationalIdVault("test-key")
TEACHER = str(uuid.uuid4())


def school():
    return {"school_year": 115, "semester": 1,
            "classes": [{"code": "101", "name": "資一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 1,
                 "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 2,
                 "national_id": "B123456780"}],
            "sections": [{"course_code": "C1", "subject_name": "程式設計", "class_code": "101", "grade_level": 1,
                          "credits": 3, "teacher_user_id": TEACHER, "students": ["1", "2"]}]}


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("day"), school())["refused"] == []
    return db


def submission(tenant="day"):
    return caller_mod.service_caller("submission", tenant)


def test_export_fields_of_the_tenants_students_with_an_audit_entry_each(db):
    ids = [str(r["id"]) for r in db.rows("students")]
    registrar = str(uuid.uuid4())
    with db.uow() as uow:
        out = export.national_export_fields(uow, VAULT, submission(), 115, ids + [str(uuid.uuid4())], registrar)
    assert sorted(v["national_id"] for v in out.values()) == ["A123456789", "B123456780"]
    one = next(iter(out.values()))
    assert one["class_name"] == "資一甲" and one["outcomes"] == {}
    trail = [r for r in db.rows("record_changes") if r["action"] == "national_id_exported"]
    assert len(trail) == 2
    assert all("A123456789" not in str(r) for r in trail)


def test_other_tenant_and_people_get_nothing(db):
    ids = [str(r["id"]) for r in db.rows("students")]
    with db.uow() as uow:
        assert export.national_export_fields(uow, VAULT, submission("ce"), 115, ids) == {}
    for role in ("registrar", "student", "system:records"):
        c = caller_mod.Caller(user_id=str(uuid.uuid4()), username=role, tenant="day", roles=(role,))
        with pytest.raises(Exception) as e, db.uow() as uow:
            export.national_export_fields(uow, VAULT, c, 115, ids)
        assert e.value.code == "not_allowed"
    with pytest.raises(Exception) as e, db.uow() as uow:
        export.national_export_fields(uow, VAULT, submission(), 115, ["not-a-uuid"])
    assert e.value.code == "invalid"


def test_the_other_rosters_fields_of_the_year_voided_items_left_out(db):
    """學生成績, 缺勤紀錄, 多元表現 (activities, performances) and the status history that routes
    course outcomes to a variant sheet: what submission's builders read, voided items left out."""
    import datetime as dt

    from records.activities.orm import activities
    from records.attendance.orm import attendance_counts
    from records.courses.orm import course_grades
    from records.performances.orm import performances
    from records.status.orm import status_changes
    from portfolio_common import clock

    (s1, s2) = sorted(db.rows("students"), key=lambda r: r["seat_no"])
    (section,) = db.rows("sections")
    now = clock.now()

    def item(student, **kw):
        return {"id": uuid.uuid4(), "tenant": "day", "student_id": student["id"], "school_year": 115, "semester": 1,
                "recorded_via": "form", "recorded_at": now, **kw}
    with db.uow() as uow:
        s = uow.session
        s.execute(course_grades.insert().values(**item(
            s1, section_id=section["id"], course_code="C1", semester_grade=72, passed=True, credit_counted=True,
            remark="穩定進步")))
        s.execute(attendance_counts.insert().values(**item(s1, absence_code="02", periods=3)))
        s.execute(attendance_counts.insert().values(**item(s1, absence_code="03", periods=1, voided_at=now)))
        s.execute(activities.insert().values(**item(s1, category="cadre", name="資一甲", position="班長",
                                                    started_on=dt.date(2026, 9, 1), description="帶領班級")))
        s.execute(performances.insert().values(
            id=uuid.uuid4(), tenant="day", student_id=s1["id"], school_year=115, kind="licence",
            fields={"licence_code": "17200", "obtained_on": "2026-10-01"}, description="丙級證照",
            entered_by="external", entered_by_user=uuid.uuid4(), recorded_via="import", state="ready",
            file_id=uuid.uuid4(), sha256="b" * 64, size=1200, content_type="application/pdf", created_at=now))
        s.execute(status_changes.insert().values(
            id=uuid.uuid4(), tenant="day", student_id=s2["id"], change="transfer_in", effective_on=dt.date(2026, 9, 1),
            other_school_code="011301", school_year=115, semester=1, recorded_via="form", recorded_at=now))
        uow.commit()
    with db.uow() as uow:
        out = export.national_export_fields(uow, VAULT, submission(), 115, [str(s1["id"]), str(s2["id"])])
    one, two = out[str(s1["id"])], out[str(s2["id"])]
    (g,) = one["grades"]
    assert (g["course_code"], g["subject_name"], g["credits"], g["semester_grade"], g["passed"], g["remark"]) == (
        "C1", "程式設計", 3, 72, True, "穩定進步")
    assert one["attendance"] == [{"semester": 1, "absence_code": "02", "periods": 3}]
    assert [(a["category"], a["position"], a["started_on"]) for a in one["activities"]] == [("cadre", "班長", "2026-09-01")]
    (p,) = one["performances"]
    assert (p["kind"], p["entered_by"], p["state"], p["fields"]["licence_code"]) == ("licence", "external", "ready",
                                                                                   "17200")
    assert one["profile"]["grade_level"] == 1
    assert [(c["change"], c["other_school_code"]) for c in two["status_changes"]] == [("transfer_in", "011301")]
    assert two["grades"] == [] and two["performances"] == []


def test_with_the_semester_every_student_of_it_is_answered_named_or_not(db):
    """The 學生資料名冊 lists every student of the semester, not only those with a held copy:
    with `semester`, records adds the tenant's students of the year's classes and the
    semester's sections to the named ones, each with their user id."""
    rows = {str(r["id"]): r for r in db.rows("students")}
    with db.uow() as uow:
        out = export.national_export_fields(uow, VAULT, submission(), 115, [], semester=1)
    assert set(out) == set(rows)
    assert {k: v["user_id"] for k, v in out.items()} == {k: str(r["user_id"]) for k, r in rows.items()}
    with db.uow() as uow:
        assert export.national_export_fields(uow, VAULT, submission(), 114, [], semester=1) == {}
        assert export.national_export_fields(uow, VAULT, submission("ce"), 115, [], semester=1) == {}
    with pytest.raises(Exception) as e, db.uow() as uow:
        export.national_export_fields(uow, VAULT, submission(), 115, [], semester=3)
    assert e.value.code == "invalid"
