"""Certification use cases against a real PostgreSQL database."""
import uuid

import pytest

from certification import usecases
from portfolio_common import caller as caller_mod
from portfolio_common import events
from tests.support.calendars import calendar_changed

TEACHER, OTHER = str(uuid.uuid4()), str(uuid.uuid4())


def teacher(uid=TEACHER, tenant="day"):
    return caller_mod.Caller(user_id=uid, username="t", tenant=tenant, roles=("subject_teacher",))


def upload_event(tenant="day", teacher_id=TEACHER, outcome_id=None, sha="0" * 64):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": outcome_id or str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "teacher_user_id": teacher_id,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": sha,
        "uploaded_at": events.utcnow()}))


@pytest.fixture
def db(service_db):
    db = service_db("certification")
    for tenant in ("day", "ce"):
        with db.uow() as uow:
            usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed(tenant)))
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
        usecases.return_outcomes(uow, teacher(), [str(t["id"])], None, "  ")
    assert e.value.code == "reason_required" and db.outbox_bodies() == []


def test_students_and_other_roles_cannot_see_or_decide(db):
    student = caller_mod.Caller(user_id=TEACHER, username="s", tenant="day", roles=("student",))
    for fn in (lambda uow: usecases.list_queue(uow, student),
               lambda uow: usecases.certify(uow, student, [str(db.rows("tasks")[0]["id"])])):
        with pytest.raises(Exception) as e, db.uow() as uow:
            fn(uow)
        assert e.value.code == "not_allowed"


def test_rounds_withdrawal_and_history_in_the_database(db):
    """Re-upload after a return opens round 2; a withdrawal keeps the attestation and opens
    round 3 on the same file; the database refuses a second open round and edits of history."""
    import sqlalchemy as sa
    from certification.orm import decisions
    first = upload_event(sha="1" * 64)
    oid = first["payload"]["outcome_id"]
    with db.uow() as uow:
        usecases.create_task(uow, first)
    (r1,) = db.rows("tasks", db.orm.tasks.c.outcome_id == oid)
    with db.uow() as uow:
        usecases.return_outcomes(uow, teacher(), [str(r1["id"])], "unreadable")
    with db.uow() as uow:
        usecases.create_task(uow, upload_event(outcome_id=oid, sha="2" * 64))
    r2 = [t for t in db.rows("tasks", db.orm.tasks.c.outcome_id == oid) if t["round"] == 2][0]
    with db.uow() as uow:
        assert usecases.certify(uow, teacher(), [str(r2["id"])])["certified"] == [str(r2["id"])]
    with db.uow() as uow:  # the identical file again (a restore): the certification stays
        usecases.create_task(uow, upload_event(outcome_id=oid, sha="2" * 64))
    assert len(db.rows("tasks", db.orm.tasks.c.outcome_id == oid)) == 2
    with db.uow() as uow:
        res = usecases.withdraw_certifications(uow, teacher(), [str(r2["id"])], "誤按認證")
    assert res["withdrawn"] == [str(r2["id"])]
    rounds = sorted(db.rows("tasks", db.orm.tasks.c.outcome_id == oid), key=lambda t: t["round"])
    assert [(t["round"], t["status"], t["sha256"]) for t in rounds] == [
        (1, "returned", "1" * 64), (2, "withdrawn", "2" * 64), (3, "pending", "2" * 64)]
    assert [(d["decision"], d["sha256"], d["reason_code"]) for d in db.rows("decisions", decisions.c.task_id.in_(
        [r1["id"], r2["id"]]))] in ([("returned", "1" * 64, "unreadable"), ("certified", "2" * 64, None)],
                                    [("certified", "2" * 64, None), ("returned", "1" * 64, "unreadable")])
    (w,) = db.rows("withdrawals")
    assert w["reason"] == "誤按認證" and w["sha256"] == "2" * 64
    (out,) = db.outbox_bodies("certification-withdrawn")
    assert out["payload"]["next_task_id"] == str(rounds[2]["id"])
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as c:   # one open round per outcome
        c.execute(db.orm.tasks.insert().values({k: v for k, v in rounds[2].items() if k != "id"}
                                               | {"id": uuid.uuid4(), "round": 4}))
    for table in ("decisions", "withdrawals"):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as c:
            c.execute(sa.text(f"DELETE FROM {table}"))


def test_the_calendar_copy_takes_only_higher_versions(db):
    import datetime as dt
    past = {"opens_on": "2020-01-01", "closes_on": "2020-02-01"}
    with db.uow() as uow:
        assert usecases.apply_calendar(uow, events.load_event(
            events.CALENDAR_CHANGED, calendar_changed("day", version=10 ** 10, certification=past)))
    with db.uow() as uow:   # an older version arriving late changes nothing
        assert not usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed("day")))
    (cal,) = db.rows("calendars", db.orm.calendars.c.tenant == "day")
    assert cal["certification_closes_on"] == dt.date(2020, 2, 1)
    mine = [t for t in db.rows("tasks") if str(t["teacher_user_id"]) == TEACHER and t["tenant"] == "day"][0]
    with db.uow() as uow:
        (refused,) = usecases.certify(uow, teacher(), [str(mine["id"])])["refused"]
    assert refused["code"] == "window_closed" and "2020-02-01" in refused["reason"]


def test_a_batch_of_uploads_in_one_transaction_matches_one_by_one(service_db):
    """create_tasks: one claim statement, the newest rounds locked with one statement, the new
    rounds written with one; the same rounds as the events applied one by one, and the batch
    redelivered changes nothing (issue 10)."""
    import sqlalchemy as sa
    one, many = service_db("certification"), service_db("certification")
    a, b = upload_event(sha="a" * 64), upload_event(sha="b" * 64)
    oa, ob = a["payload"]["outcome_id"], b["payload"]["outcome_id"]
    media = upload_event(outcome_id=oa, sha="c" * 64)
    media["payload"].update(slot="media", content_type="video/mp4")
    story = [a, b, media, upload_event(outcome_id=ob, sha="d" * 64), upload_event(outcome_id=ob, sha="e" * 64),
             upload_event(outcome_id=oa, sha="a" * 64), a] + [upload_event() for _ in range(50)]
    for env in story:
        with one.uow() as uow:
            usecases.create_task(uow, env)
    with many.uow() as uow:
        assert usecases.create_tasks(uow, story) == len(story) - 1

    def rounds(db):
        return sorted((str(t["outcome_id"]), t["round"], t["status"], t["sha256"], t["closed_reason"],
                       sorted((t["files"] or {}).items())) for t in db.rows("tasks"))
    assert rounds(many) == rounds(one)
    assert [(t["round"], t["status"]) for t in sorted(many.rows("tasks", many.orm.tasks.c.outcome_id == ob),
                                                      key=lambda t: t["round"])] == \
        [(1, "superseded"), (2, "superseded"), (3, "pending")]
    with many.uow() as uow:
        assert usecases.create_tasks(uow, story) == 0
    assert rounds(many) == rounds(one)
    with many.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from processed_events")).scalar() == len(story) - 1
