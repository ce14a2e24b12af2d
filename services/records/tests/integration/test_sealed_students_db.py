"""A sealed student in records, on a real PostgreSQL database: `sealed` is recorded once and
the database refuses every write to the student's rows, whoever sends the SQL."""
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.crypto import NationalIdVault
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE, StudentSealed, refusing_sealed
from records import usecases
from records.sealing import usecases as sealing
from records.status import usecases as status

VAULT = NationalIdVault("test-key")
U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "teacher")}


def term():
    return {"school_year": 115, "semester": 1,
            "classes": [{"code": "101", "name": "一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": U["s1"], "class_code": "101", "seat_no": 1,
                 "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": U["s2"], "class_code": "101", "seat_no": 2,
                 "national_id": "B123456780"}],
            "sections": [{"course_code": "C1", "subject_name": "程式設計", "class_code": "101", "grade_level": 1,
                          "credits": 3, "teacher_user_id": U["teacher"], "students": ["1", "2"]}]}


def sealed_event(student_id, user_id, tenant="day"):
    return events.load_event(events.SEALED, events.make_event(events.SEALED, tenant, {
        "student_id": student_id, "student_user_id": user_id, "sealed_at": events.utcnow(),
        "manifest_digest": "0" * 64}, producer="submission"))


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("day"), term())["refused"] == []
    return db


def student_id(db, user):
    return next(str(r["id"]) for r in db.rows("students") if str(r["user_id"]) == U[user])


def refused(engine, sql, **params):
    with pytest.raises(sa.exc.DBAPIError) as e, engine.begin() as c:
        c.execute(sa.text(sql), params)
    assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE


def registrar(tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg", tenant=tenant, roles=("registrar",))


def test_sealed_is_recorded_once_and_the_database_refuses_writes(db):
    s1, s2 = student_id(db, "s1"), student_id(db, "s2")
    env = sealed_event(s1, U["s1"])
    with db.uow() as uow:
        assert sealing.record_sealed(uow, env)
    with db.uow() as uow:
        assert not sealing.record_sealed(uow, env)          # redelivery
    refused(db.engine, "update students set name = 'x' where id = :s", s=s1)
    refused(db.engine, "delete from enrolments where student_id = :s; delete from students where id = :s", s=s1)
    refused(db.engine, "insert into status_changes (id, tenant, student_id, change, effective_on, school_year, "
                       "semester, recorded_via, recorded_by, recorded_at, version) values (gen_random_uuid(), 'day', "
                       ":s, 'repeat', '2026-01-01', 115, 1, 'form', gen_random_uuid(), now(), 1)", s=s1)
    refused(db.engine, "update sealed_students set sealed_at = now()")
    assert [r["name"] for r in db.rows("students") if str(r["id"]) == s1] == ["陳怡君"]

    # through a use case: the registrar gets student_sealed, nothing is stored
    changes_before = len(db.rows("record_changes"))
    with pytest.raises(StudentSealed), refusing_sealed(), db.uow() as uow:
        status.record_status_change(uow, registrar(), s1, {"change": "repeat", "effective_on": "2026-09-01",
                                                           "other_school_code": None})
    assert db.rows("status_changes") == [] and len(db.rows("record_changes")) == changes_before

    # another student of the tenant is not sealed
    with db.uow() as uow:
        status.record_status_change(uow, registrar(), s2, {"change": "repeat", "effective_on": "2026-09-01",
                                                           "other_school_code": None})
    assert len(db.rows("status_changes")) == 1


def test_a_seal_from_another_tenant_freezes_nothing_here(db):
    s1 = student_id(db, "s1")
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(s1, U["s1"], tenant="ce"))
    with db.engine.begin() as c:
        c.execute(sa.text("update students set seat_no = 9 where id = :s"), {"s": s1})
    assert [r["seat_no"] for r in db.rows("students") if str(r["id"]) == s1] == [9]


def approved(student_id, reader, days=7, tenant="day"):
    import datetime as dt
    return events.load_event(events.SEALED_READ_APPROVED, events.make_event(events.SEALED_READ_APPROVED, tenant, {
        "request_id": str(uuid.uuid4()), "student_id": student_id, "reader_user_id": reader,
        "approved_by": [{"role": "principal", "user_id": str(uuid.uuid4())},
                        {"role": "executive_secretary", "user_id": str(uuid.uuid4())}],
        "expires_at": events.utcnow() + dt.timedelta(days=days)}, producer="submission"))


def test_a_sealed_student_is_read_only_through_an_approved_request_and_every_read_is_logged(db):
    from records.profile import usecases as profile
    s1, s2 = student_id(db, "s1"), student_id(db, "s2")
    reader, other_registrar, student = registrar(), registrar(), caller_mod.Caller(
        user_id=U["s1"], username="s1", tenant="day", roles=("student",))
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(s1, U["s1"]))
    for who in (reader, other_registrar, student):
        with pytest.raises(Exception) as e, db.uow() as uow:
            profile.get_student(uow, VAULT, who, s1)
        assert e.value.code == "sealed_read_required"
        with pytest.raises(Exception) as e, db.uow() as uow:
            status.list_status_changes(uow, who, s1)
        assert e.value.code == "sealed_read_required"
    with db.uow() as uow:                                  # an unsealed student reads as before
        assert profile.get_student(uow, VAULT, reader, s2)["name"] == "林柏宇"

    expired = approved(s1, reader.user_id, days=-1)
    grant = approved(s1, reader.user_id)
    for env in (expired, grant, grant):
        with db.uow() as uow:
            sealing.record_read_approved(uow, env)
    with db.uow() as uow:
        assert profile.get_student(uow, VAULT, reader, s1)["name"] == "陳怡君"
    with db.uow() as uow:
        assert status.list_status_changes(uow, reader, s1) == []
    # only the reader the request named, in the tenant it was approved in
    with pytest.raises(Exception) as e, db.uow() as uow:
        profile.get_student(uow, VAULT, other_registrar, s1)
    assert e.value.code == "sealed_read_required"
    with db.engine.connect() as c:
        reads = c.execute(sa.text("select reader_user_id::text, request_id::text from sealed_reads")).all()
    assert [tuple(r) for r in reads] == [(reader.user_id, str(grant["payload"]["request_id"]))] * 2
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as c:   # the log is append-only
        c.execute(sa.text("delete from sealed_reads"))


def test_every_read_path_of_a_sealed_students_data_is_gated(db):
    """issue 9 item 7: the outcome (get_outcome, the student's own list), the performances and the
    class lists (a class's records, a class's autobiographies) do not show a sealed student's
    data to ordinary roles; an approved request's reader reads the student's own items one
    student at a time (each read logged); the unsealed classmate reads as before."""
    from records.autobiography import usecases as autobiography
    from records.itemviews import usecases as itemviews
    from records.performances import usecases as performances
    from tests.support.calendar import open_records_calendar
    open_records_calendar(db, "day", school_year=115, semester=1)
    s1, s2 = student_id(db, "s1"), student_id(db, "s2")
    section = str(db.rows("sections")[0]["id"])
    outcome = {}
    for sid, user in ((s1, "s1"), (s2, "s2")):
        outcome[sid] = str(uuid.uuid4())
        with db.uow() as uow:
            usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, events.make_event(
                events.OUTCOME_UPLOADED, "day", {
                    "outcome_id": outcome[sid], "file_id": str(uuid.uuid4()), "student_id": sid,
                    "student_user_id": U[user], "section_id": section, "teacher_user_id": U["teacher"],
                    "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計",
                    "description": "期末專題", "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
                    "sha256": "0" * 64, "uploaded_at": events.utcnow()})))
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(s1, U["s1"]))

    reader = registrar()
    student = caller_mod.Caller(user_id=U["s1"], username="s1", tenant="day", roles=("student",))
    teacher = caller_mod.Caller(user_id=U["teacher"], username="t", tenant="day", roles=("subject_teacher",))
    gated = [(who, fn) for who in (reader, student, teacher)
             for fn in (lambda uow, who: usecases.get_outcome(uow, who, outcome[s1]),)]
    gated += [(who, lambda uow, who: performances.list_performances(uow, who, s1)) for who in (reader,)]
    gated += [(student, lambda uow, who: performances.list_performances(uow, who)),
              (student, lambda uow, who: usecases.list_my_outcomes(uow, who))]
    for who, fn in gated:
        with pytest.raises(Exception) as e, db.uow() as uow:
            fn(uow, who)
        assert e.value.code == "sealed_read_required", who.roles
    # the classmate's data reads as before
    with db.uow() as uow:
        assert str(usecases.get_outcome(uow, teacher, outcome[s2])["id"]) == outcome[s2]
    with db.uow() as uow:
        assert performances.list_performances(uow, reader, s2) == []

    # class lists: the sealed student's card is marked, their data left out
    with db.uow() as uow:
        view = itemviews.class_records(uow, reader, "101")
    assert {c["id"]: c["sealed"] for c in view["students"]} == {s1: True, s2: False, **{
        c["id"]: False for c in view["students"] if c["id"] not in (s1, s2)}}
    assert all(s1 not in [str(k) for k in by_student] for by_student in view["kinds"].values())
    counsellor = caller_mod.Caller(user_id=str(uuid.uuid4()), username="c", tenant="day",
                                   roles=("guidance_counsellor",))
    with db.uow() as uow:
        rows = autobiography.list_class(uow, counsellor, "101")
    assert [r["student"].get("sealed") for r in rows] == [True, False] and rows[0]["latest"] is None

    # an approved request's reader reads the sealed student's outcome; the read is logged
    with db.uow() as uow:
        sealing.record_read_approved(uow, approved(s1, reader.user_id))
    with db.uow() as uow:
        assert str(usecases.get_outcome(uow, reader, outcome[s1])["id"]) == outcome[s1]
    with db.uow() as uow:
        assert performances.list_performances(uow, reader, s1) == []
    with db.engine.connect() as c:
        n = c.execute(sa.text("select count(*) from sealed_reads where student_id = :s"), {"s": s1}).scalar()
    assert n == 2


def test_a_sealed_student_is_listed_as_sealed_without_details_and_details_are_refused(db):
    """The attacker's view (brief national item 5): the registrar's student list, the national
    export of the semester and the profile. A sealed student is listed with name and class
    only; the profile, the history and the export of the semester refuse or leave them out."""
    from records.nationalexport import usecases as export
    from records.profile import usecases as profile
    s1, s2 = student_id(db, "s1"), student_id(db, "s2")
    with db.uow() as uow:
        sealing.record_sealed(uow, sealed_event(s1, U["s1"]))
    with db.uow() as uow:
        listed = {s["id"]: s for s in profile.list_students(uow, VAULT, registrar())}
    shown = {k: v for k, v in listed[s1].items() if v is not None}
    assert shown == {"id": s1, "name": "陳怡君", "class_code": "101", "class_name": "一甲", "school_year": 115,
                     "sealed": True}
    assert set(listed[s2]) <= set(listed[s1])         # the same shape: a list reader meets every key
    assert listed[s2]["sealed"] is False and listed[s2]["national_id_masked"] and listed[s2]["student_no"] == "2"
    with pytest.raises(Exception) as e, db.uow() as uow:
        profile.get_student(uow, VAULT, registrar(), s1)
    assert e.value.code == "sealed_read_required"
    with db.uow() as uow:       # the semester's export leaves the sealed student out
        out = export.national_export_fields(uow, VAULT, caller_mod.service_caller("submission", "day"), 115, [],
                                            semester=1)
    assert set(out) == {s2}
