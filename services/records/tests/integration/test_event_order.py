"""Events that overtake the ones they depend on are retried, never applied half-way."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.crypto import NationalIdVault
from portfolio_common.errors import PermanentEventError, RetryLater
from records import usecases

U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "teacher")}


@pytest.fixture
def db(service_db):
    db = service_db("records")
    term = {"school_year": 115, "semester": 1,
            "classes": [{"code": "101", "name": "一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": U["s1"], "class_code": "101", "seat_no": 1,
                 "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": U["s2"], "class_code": "101", "seat_no": 2,
                 "national_id": "B123456780"}],
            "sections": [{"course_code": "C1", "subject_name": "程式設計", "class_code": "101", "grade_level": 1,
                          "credits": 3, "teacher_user_id": U["teacher"], "students": ["1", "2"]}]}
    with db.uow() as uow:
        res = usecases.import_school(uow, NationalIdVault("test-key"), caller_mod.system_caller("day"), term)
    assert res["refused"] == []
    return db


def uploaded(db, student, oid, tenant="day"):
    sec = str(db.rows("sections")[0]["id"])
    return events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": oid, "file_id": str(uuid.uuid4()), "student_id": str(student["id"]),
        "student_user_id": str(student["user_id"]), "section_id": sec, "teacher_user_id": U["teacher"],
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計",
        "description": "成果", "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
        "sha256": "0" * 64, "uploaded_at": events.utcnow()})


def locked(student, ids, tenant="day"):
    return events.make_event(events.SELECTION_LOCKED, tenant, {
        "student_id": str(student["id"]), "student_user_id": str(student["user_id"]), "school_year": 115,
        "outcome_ids": ids, "locked_by": str(uuid.uuid4()), "locked_at": events.utcnow()})


def apply(db, fn, env):
    with db.uow() as uow:
        return fn(uow, events.load_event(env["event"], env))


def test_selection_locked_before_its_outcome_arrived_is_retried_then_applied(db):
    student = db.rows("students")[0]
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    apply(db, usecases.record_outcome_uploaded, uploaded(db, student, early))
    lock = locked(student, [early, late])
    # `late`'s upload is still on its way: nothing is locked and the event is not claimed, so
    # the retry applies it whole once the upload has arrived.
    with pytest.raises(RetryLater):
        apply(db, usecases.record_selection_locked, lock)
    assert [r["selected_locked"] for r in db.rows("outcomes")] == [False]
    assert "records.handle_selection_locked" not in [r["handler"] for r in db.rows("processed_events")]
    assert "selection_locked" not in [r["action"] for r in db.rows("record_changes")]
    apply(db, usecases.record_outcome_uploaded, uploaded(db, student, late))
    assert apply(db, usecases.record_selection_locked, lock) is True
    assert {str(r["id"]): r["selected_locked"] for r in db.rows("outcomes")} == {early: True, late: True}
    assert apply(db, usecases.record_selection_locked, lock) is False  # a redelivery changes nothing


def test_selection_locked_naming_another_students_outcome_is_dead_lettered(db):
    s1, s2 = db.rows("students")[:2]
    theirs = str(uuid.uuid4())
    apply(db, usecases.record_outcome_uploaded, uploaded(db, s2, theirs))
    with pytest.raises(PermanentEventError):
        apply(db, usecases.record_selection_locked, locked(s1, [theirs]))
    assert [r["selected_locked"] for r in db.rows("outcomes")] == [False]
    with pytest.raises(PermanentEventError):  # nor one of the same student in another tenant
        apply(db, usecases.record_selection_locked, locked(s2, [theirs], tenant="ce"))
