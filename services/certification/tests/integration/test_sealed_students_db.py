"""A sealed student in certification, on a real PostgreSQL database: no further decision, and
the database refuses writes to the student's tasks even by raw SQL."""
import uuid

import pytest
import sqlalchemy as sa

from certification import sealing, usecases
from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE
from tests.support.calendars import calendar_changed

TEACHER = str(uuid.uuid4())


def teacher(tenant="day"):
    return caller_mod.Caller(user_id=TEACHER, username="t", tenant=tenant, roles=("subject_teacher",))


def upload_event(student_id, tenant="day"):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": student_id,
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "teacher_user_id": TEACHER,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64,
        "uploaded_at": events.utcnow()}))


def sealed_event(student_id, tenant="day"):
    return events.load_event(events.SEALED, events.make_event(events.SEALED, tenant, {
        "student_id": student_id, "student_user_id": str(uuid.uuid4()), "sealed_at": events.utcnow(),
        "manifest_digest": "0" * 64}, producer="submission"))


def certification_db(service_db):
    db = service_db("certification")
    with db.uow() as uow:
        usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed("day")))
    return db


def test_no_decision_for_a_sealed_student_and_raw_sql_is_refused(service_db):
    db = certification_db(service_db)
    sealed_student, other = str(uuid.uuid4()), str(uuid.uuid4())
    for s in (sealed_student, other):
        with db.uow() as uow:
            usecases.create_task(uow, upload_event(s))
    env = sealed_event(sealed_student)
    for _ in range(2):
        with db.uow() as uow:
            sealing.record_sealed(uow, env)
    tasks = {str(t["student_id"]): str(t["id"]) for t in db.rows("tasks")}
    with db.uow() as uow:
        res = usecases.certify(uow, teacher(), [tasks[sealed_student], tasks[other]])
    assert res["certified"] == [tasks[other]]
    with db.uow() as uow:   # the sealed student's round is no longer in the teacher's queue
        assert [str(t["id"]) for t in usecases.list_queue(uow, teacher(), "all")] == [tasks[other]]
    assert res["refused"] == [{"task_id": tasks[sealed_student], "code": "student_sealed",
                               "reason": "this student's portfolio is sealed"}]
    assert [str(d["task_id"]) for d in db.rows("decisions")] == [tasks[other]]

    for sql in ("update tasks set status = 'certified' where student_id = :s",
                "delete from tasks where student_id = :s"):
        with pytest.raises(sa.exc.DBAPIError) as e, db.engine.begin() as c:
            c.execute(sa.text(sql), {"s": sealed_student})
        assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE
    # a new upload for the sealed student makes no task (the consumer's write is refused)
    with pytest.raises(sa.exc.DBAPIError), db.uow() as uow:
        usecases.create_task(uow, upload_event(sealed_student))
    assert len(db.rows("tasks")) == 2


def test_a_seal_from_another_tenant_freezes_nothing_here(service_db):
    db = certification_db(service_db)
    s = str(uuid.uuid4())
    with db.uow() as uow:
        usecases.create_task(uow, upload_event(s))
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(s, tenant="ce"))
    (task,) = db.rows("tasks")
    with db.uow() as uow:
        assert usecases.certify(uow, teacher(), [str(task["id"])])["certified"] == [str(task["id"])]


def test_decisions_and_withdrawals_of_a_sealed_student_refused_in_the_database(service_db):
    """issue 9: a return (its reason), a withdrawal or any change to them, written by raw SQL,
    is refused for a sealed student; the same write for another student is accepted."""
    db = certification_db(service_db)
    sealed_student, other = str(uuid.uuid4()), str(uuid.uuid4())
    for s in (sealed_student, sealed_student, other):
        with db.uow() as uow:
            usecases.create_task(uow, upload_event(s))
    rows = db.rows("tasks")
    decided = next(str(t["id"]) for t in rows if str(t["student_id"]) == sealed_student)
    still_open = next(str(t["id"]) for t in rows if str(t["student_id"]) == sealed_student and str(t["id"]) != decided)
    others = next(str(t["id"]) for t in rows if str(t["student_id"]) == other)
    with db.uow() as uow:
        assert len(usecases.certify(uow, teacher(), [decided, others])["certified"]) == 2
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(sealed_student))

    withdraw = sa.text("insert into withdrawals (id, task_id, tenant, actor_user_id, reason, sha256, withdrawn_at) "
                       "values (:id, :t, 'day', :a, '誤認證', :h, now())")
    give_reason = sa.text("insert into decisions (id, task_id, tenant, decision, actor_user_id, reason_code, reason) "
                          "values (:id, :t, 'day', 'returned', :a, 'blurry', '檔案模糊')")
    for sql, task, codes in ((withdraw, decided, {STUDENT_SEALED_SQLSTATE}),
                             (give_reason, still_open, {STUDENT_SEALED_SQLSTATE}),
                             # decisions are append-only too: whichever trigger fires first refuses
                             (sa.text("delete from decisions where task_id = :t"), decided,
                              {STUDENT_SEALED_SQLSTATE, "42501"}),
                             (sa.text("update decisions set reason = 'x' where task_id = :t"), decided,
                              {STUDENT_SEALED_SQLSTATE, "42501"})):
        with pytest.raises(sa.exc.DBAPIError) as e, db.engine.begin() as c:
            c.execute(sql, {"id": str(uuid.uuid4()), "t": task, "a": TEACHER, "h": "0" * 64})
        assert e.value.orig.pgcode in codes, sql
    assert [str(d["task_id"]) for d in db.rows("withdrawals")] == []
    # the other student's withdrawal is written (the trigger concerns sealed students only)
    with db.engine.begin() as c:
        c.execute(withdraw, {"id": str(uuid.uuid4()), "t": others, "a": TEACHER, "h": "0" * 64})
    assert [str(d["task_id"]) for d in db.rows("withdrawals")] == [others]
