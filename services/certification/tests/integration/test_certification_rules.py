"""Certification use cases against a real PostgreSQL database."""
import uuid

import pytest

from certification import usecases
from portfolio_common import caller as caller_mod
from portfolio_common import events

TEACHER, OTHER = str(uuid.uuid4()), str(uuid.uuid4())


def teacher(uid=TEACHER, tenant="day"):
    return caller_mod.Caller(user_id=uid, username="t", tenant=tenant, roles=("subject_teacher",))


def upload_event(tenant="day", teacher_id=TEACHER):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "teacher_user_id": teacher_id,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64,
        "uploaded_at": events.utcnow()}))


@pytest.fixture
def db(service_db):
    db = service_db("certification")
    for env in [upload_event() for _ in range(30)] + [upload_event(teacher_id=OTHER), upload_event("ce")]:
        with db.uow() as uow:
            usecases.create_task(uow, env)
    return db


def test_thirty_items_certified_in_one_call(db):
    with db.uow() as uow:
        queue = usecases.list_queue(uow, teacher())
    assert len(queue) == 30
    with db.uow() as uow:
        res = usecases.certify(uow, teacher(), [str(t["id"]) for t in queue])
    assert len(res["certified"]) == 30 and res["refused"] == []
    assert len(db.outbox_bodies("certified")) == 30
    assert {d["actor_user_id"] for d in db.rows("decisions")} == {uuid.UUID(TEACHER)}


def test_items_not_yours_or_already_decided_are_refused_one_by_one(db):
    mine = [t for t in db.rows("tasks") if str(t["teacher_user_id"]) == TEACHER and t["tenant"] == "day"][0]
    others = [t for t in db.rows("tasks") if str(t["teacher_user_id"]) == OTHER][0]
    ce = [t for t in db.rows("tasks") if t["tenant"] == "ce"][0]
    with db.uow() as uow:
        usecases.certify(uow, teacher(), [str(mine["id"])])
    with db.uow() as uow:
        res = usecases.certify(uow, teacher(), [str(mine["id"]), str(others["id"]), str(ce["id"]), "junk"])
    assert res["certified"] == []
    assert [r["code"] for r in res["refused"]] == ["already_decided", "not_found", "not_found", "not_found"]
    assert len(db.outbox_bodies("certified")) == 1


def test_return_needs_a_reason_and_writes_nothing_without_one(db):
    t = db.rows("tasks")[0]
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.return_outcomes(uow, teacher(), [str(t["id"])], "  ")
    assert e.value.code == "reason_required" and db.outbox_bodies() == []


def test_students_and_other_roles_cannot_see_or_decide(db):
    student = caller_mod.Caller(user_id=TEACHER, username="s", tenant="day", roles=("student",))
    for fn in (lambda uow: usecases.list_queue(uow, student),
               lambda uow: usecases.certify(uow, student, [str(db.rows("tasks")[0]["id"])])):
        with pytest.raises(Exception) as e, db.uow() as uow:
            fn(uow)
        assert e.value.code == "not_allowed"
