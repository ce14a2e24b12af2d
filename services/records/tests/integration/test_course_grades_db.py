"""Course records (修課紀錄) against a real PostgreSQL database: a 進修部 section counted in class
hours, a grade refused for a student not enrolled, the grade sheet imported twice changes
nothing, one live grade per enrolment held by the database too, every change in the chain."""
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common.crypto import NationalIdVault
from portfolio_common.errors import PortfolioError
from records import importing, usecases, verify_history
from records.courses import usecases as courses
from records.courses.importer import IMPORTERS

VAULT = NationalIdVault("test-key")
U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "teacher", "reg", "officer")}


def term(tenant_sections):
    return {"school_year": 115, "semester": 2,
            "classes": [{"code": "501", "name": "進一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "N1", "name": "陳怡君", "user_id": U["s1"], "class_code": "501", "seat_no": 1, "national_id": "A123456789"},
                {"student_no": "N2", "name": "林柏宇", "user_id": U["s2"], "class_code": "501", "seat_no": 2, "national_id": "B123456780"}],
            "sections": tenant_sections}


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, caller_mod.system_caller("ce"), term([
            {"course_code": "115050407N11A0101", "subject_name": "國語文", "class_code": "501", "grade_level": 1,
             "class_hours": 4, "teacher_user_id": U["teacher"], "students": ["N1"]},
            {"course_code": "115050407N11B0101", "subject_name": "會計學", "class_code": "501", "grade_level": 1,
             "class_hours": 2, "teacher_user_id": U["teacher"], "students": []}]))
    assert res["refused"] == []
    return db


REG = caller_mod.Caller(user_id=U["reg"], username="reg_ce", tenant="ce", roles=("registrar",))


def student(db, no):
    return next(r["id"] for r in db.rows("students") if r["student_no"] == no)


def test_ce_section_counts_class_hours_and_takes_a_yearly_grade(db):
    secs = {r["course_code"]: r for r in db.rows("sections")}
    assert secs["115050407N11A0101"]["class_hours"] == 4 and secs["115050407N11A0101"]["credits"] is None
    with db.uow() as uow:
        item = courses.record_grade(uow, REG, student(db, "N1"), {
            "course_code": "115050407N11A0101", "school_year": "115", "semester": "2", "semester_grade": "48",
            "makeup_grade": "60", "yearly_grade": "62", "remark": "期末進步"})
    assert item["class_hours"] == 4 and item["makeup_passed"] is True and item["yearly_passed"] is True
    (row,) = db.rows("course_grades")
    assert row["semester_grade"] == 48 and row["recorded_by"] == uuid.UUID(U["reg"])
    with db.uow() as uow, pytest.raises(PortfolioError) as e:
        courses.record_grade(uow, REG, student(db, "N2"), {
            "course_code": "115050407N11A0101", "school_year": "115", "semester": "2", "semester_grade": "70"})
    assert e.value.details["problems"] == [{"field": "course_code", "code": "student_not_enrolled", "params": {}}]
    assert len(db.rows("course_grades")) == 1


def test_grade_sheet_import_twice_changes_nothing_and_is_chained(db):
    officer = caller_mod.Caller(user_id=U["officer"], username="elective_ce", tenant="ce", roles=("elective_officer",))
    enrol = [{"row": 2, "cells": {"student_no": "N2", "school_year": "115", "semester": "2",
                                  "course_code": "115050407N11B0101"}}]
    with db.uow() as uow:
        assert importing.run_import(uow, IMPORTERS["elective"], {"caller": officer}, enrol, dry_run=False)["written"]
    rows = [{"row": 2, "cells": {"student_no": "N1", "school_year": "115", "semester": "2",
                                 "course_code": "115050407N11A0101", "semester_grade": "75"}},
            {"row": 3, "cells": {"student_no": "N2", "school_year": "115", "semester": "2",
                                 "course_code": "115050407N11B0101", "semester_grade": "59", "passed": "否"}}]
    with db.uow() as uow:
        first = importing.run_import(uow, IMPORTERS["course_grade"], {"caller": REG}, rows, dry_run=False)
    assert first["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    history = len(db.rows("record_changes"))
    with db.uow() as uow:
        again = importing.run_import(uow, IMPORTERS["course_grade"], {"caller": REG}, rows, dry_run=False)
    assert again["summary"]["unchanged"] == 2 and len(db.rows("record_changes")) == history
    kinds = [(r["entity"], r["action"]) for r in db.rows("record_changes") if r["entity"] in ("course_grade", "enrolment")]
    assert kinds.count(("enrolment", "created")) == 1 and kinds.count(("course_grade", "created")) == 2
    # one live grade per enrolment, held by the database as well
    g = db.rows("course_grades")[0]
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.text("insert into course_grades (id, tenant, student_id, school_year, semester, "
                                 "recorded_via, recorded_at, section_id, course_code, semester_grade, passed, "
                                 "credit_counted) values (:id, 'ce', :st, 115, 2, 'form', now(), :sec, 'X', 1, false, false)"),
                         {"id": uuid.uuid4(), "st": g["student_id"], "sec": g["section_id"]})
    (ce,) = list(verify_history.verify(db.engine, "ce"))
    assert ce[-1] is None  # the chain holds
