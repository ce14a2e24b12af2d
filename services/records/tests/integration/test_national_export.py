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
