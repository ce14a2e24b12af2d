"""records' side of a transfer import against a real PostgreSQL database: the package's national
ID compared by its keyed hash (never answered), the items stored once per package and
attributable, read only by the student, the registrar and the homeroom teacher, evidence read
grants for those readers only, nothing for a sealed student, rows that cannot be changed."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from records.transferin import usecases as tin

from .test_national_export import VAULT, db, submission  # noqa: F401  (db: the school's fixture)

SHA = "ab" * 32


def person(role, user_id=None, tenant="day"):
    return caller_mod.Caller(user_id=str(user_id or uuid.uuid4()), username=f"u-{role}", tenant=tenant, roles=(role,))


def student(db, no="1"):
    return next(r for r in db.rows("students") if r["student_no"] == no)


def record(file_id=None, sha=SHA):
    file_id = file_id or str(uuid.uuid4())
    return {"package_sha256": sha, "file_id": str(uuid.uuid4()), "origin_school_code": "099999",
            "origin_tenant": "day", "exported_at": "2026-07-31T09:00:00+08:00", "key_id": "099999:submission:00",
            "verified": False, "theirs": {"student_no": "A1", "name": "陳怡君"},
            "items": [{"kind": "course_grades", "school_year": 114, "item": {"subject_name": "國文", "semester_grade": 80}},
                      {"kind": "performances", "school_year": 114,
                       "item": {"description": "作品", "file": {"sha256": "cd" * 32, "file_id": file_id}}},
                      {"kind": "profile", "school_year": None, "item": {"name": "not an item"}}],
            "evidence": [{"sha256": "cd" * 32, "file_id": file_id, "filename": "作品.pdf",
                          "content_type": "application/pdf", "size": 10}]}


def test_the_national_id_is_compared_not_answered(db):
    row = student(db)
    with db.uow() as uow:
        same = tin.transfer_import_target(uow, VAULT, submission(), str(row["id"]), " a123456789 ")
        other = tin.transfer_import_target(uow, VAULT, submission(), str(row["id"]), "B123456780")
        empty = tin.transfer_import_target(uow, VAULT, submission(), str(row["id"]), "")
    assert same["matches"] and not other["matches"] and not empty["matches"]
    assert "A123456789" not in str(same) and same["student_no"] == "1" and same["imported"] == []
    for who in (person("registrar"), person("student")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            tin.transfer_import_target(uow, VAULT, who, str(row["id"]), "A123456789")
        assert e.value.code == "not_allowed"
    with pytest.raises(Exception) as e, db.uow() as uow:
        tin.transfer_import_target(uow, VAULT, submission("ce"), str(row["id"]), "A123456789")
    assert e.value.code == "not_found"


def test_stored_once_attributable_and_read_only(db):
    row, registrar = student(db), str(uuid.uuid4())
    with db.uow() as uow:
        first = tin.store_transfer_import(uow, submission(), str(row["id"]), record(), registrar, "reg_day")
    with db.uow() as uow:
        again = tin.store_transfer_import(uow, submission(), str(row["id"]), record(), registrar, "reg_day")
    assert first["created"] and not again["created"] and again["import_id"] == first["import_id"]
    assert len(db.rows("transfer_imports")) == 1 and len(db.rows("transfer_import_items")) == 2   # no "profile"
    (imp,) = db.rows("transfer_imports")
    assert str(imp["imported_by"]) == registrar and imp["imported_by_username"] == "reg_day"
    assert imp["origin_school_code"] == "099999" and imp["package_sha256"] == SHA
    trail = [r for r in db.rows("record_changes") if r["action"] == "transfer_imported"]
    assert len(trail) == 1 and trail[0]["after"]["items"] == 2 and trail[0]["actor_username"] == "reg_day"
    with db.uow() as uow:
        assert tin.transfer_import_target(uow, VAULT, submission(), str(row["id"]), "x")["imported"] == [SHA]
    # append only: the database itself refuses a change
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("update transfer_import_items set school_year = 100"))


def test_readers_are_the_student_the_registrar_and_the_homeroom_teacher(db):
    row, fid = student(db), str(uuid.uuid4())
    homeroom = uuid.uuid4()
    with db.engine.begin() as conn:
        conn.execute(sa.text("update classes set homeroom_user_id = :h"), {"h": homeroom})
    with db.uow() as uow:
        tin.store_transfer_import(uow, submission(), str(row["id"]), record(fid), str(uuid.uuid4()), "reg_day")
    readers = [(person("registrar"), str(row["id"])), (person("homeroom_teacher", homeroom), str(row["id"])),
               (person("student", row["user_id"]), None)]
    for who, sid in readers:
        with db.uow() as uow:
            view = tin.list_transfer_imports(uow, who, sid)
        (imp,) = view["imports"]
        assert imp["origin_school_code"] == "099999" and [i["kind"] for i in imp["items"]] == ["course_grades", "performances"]
        with db.uow() as uow:
            g = tin.grant_transfer_evidence_read(uow, who, sid, fid, "ticket-key")
        assert g["file_id"] == fid and g["filename"] == "作品.pdf"
    other = student(db, "2")
    outsiders = [(person("homeroom_teacher"), str(row["id"])), (person("subject_teacher"), str(row["id"])),
                 (person("student", other["user_id"]), str(row["id"])), (person("registrar", tenant="ce"), str(row["id"])),
                 (person("registrar"), None)]
    for who, sid in outsiders:
        with pytest.raises(Exception) as e, db.uow() as uow:
            tin.list_transfer_imports(uow, who, sid)
        assert e.value.code == "not_found", who
        with pytest.raises(Exception) as e, db.uow() as uow:
            tin.grant_transfer_evidence_read(uow, who, sid, fid, "ticket-key")
        assert e.value.code == "not_found", who
    # another student's own list is empty; a file that is not this student's is not granted
    with db.uow() as uow:
        assert tin.list_transfer_imports(uow, person("student", other["user_id"]))["imports"] == []
    with pytest.raises(Exception) as e, db.uow() as uow:
        tin.grant_transfer_evidence_read(uow, person("registrar"), str(row["id"]), str(uuid.uuid4()), "k")
    assert e.value.code == "not_found"


def test_a_sealed_student_takes_no_ticket_and_no_import(db):
    row = student(db, "2")
    with db.uow() as uow:
        uow.sealed_students.add("day", str(row["id"]), str(row["user_id"]), dt.datetime.now(dt.timezone.utc))
        uow.commit()
    with pytest.raises(Exception) as e, db.uow() as uow:
        tin.issue_transfer_ticket(uow, person("registrar"), str(row["id"]), "k")
    assert e.value.code == "student_sealed"
    with pytest.raises(Exception) as e, db.uow() as uow:
        tin.store_transfer_import(uow, submission(), str(row["id"]), record(), str(uuid.uuid4()))
    assert e.value.code == "student_sealed"
    assert db.rows("transfer_imports") == []


def test_the_registrar_gets_a_ticket_for_a_student_of_the_tenant_only(db):
    from portfolio_common import signing
    row = student(db)
    with db.uow() as uow:
        t = tin.issue_transfer_ticket(uow, person("registrar"), str(row["id"]), "k")
    claims = signing.verify(t["ticket"], "k", purpose="upload-ticket")
    assert claims["kind"] == "transfer_package" and claims["student_id"] == str(row["id"])
    with pytest.raises(Exception) as e, db.uow() as uow:
        tin.issue_transfer_ticket(uow, person("registrar", tenant="ce"), str(row["id"]), "k")
    assert e.value.code == "not_found"
