"""A returned outcome uploaded again (issue 10 item 1): records issues a ticket for the SAME
outcome (attempt 2, 3, ...), takes a quota slot again (a returned outcome freed its own), and
when the file arrives the outcome takes it and waits for a decision again, with a history row.
The identical file of a certified outcome keeps its certification. Real PostgreSQL."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from portfolio_common.crypto import NationalIdVault
from records import usecases
from records.errors import IdempotencyKeyReused, NotFound, OutcomeNotReturned, OutcomeQuotaExceeded
from tests.support.calendar import open_records_calendar

VAULT = NationalIdVault("test-key")
U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "teacher")}
SHA_A, SHA_B = "a" * 64, "b" * 64


def student(name="s1", tenant="day"):
    return caller_mod.Caller(user_id=U[name], username=name, tenant=tenant, roles=("student",))


def school():
    return {"school_year": 115, "semester": 1,
            "classes": [{"code": "101", "name": "一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": U["s1"], "class_code": "101", "seat_no": 1,
                 "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": U["s2"], "class_code": "101", "seat_no": 2,
                 "national_id": "B123456780"}],
            "sections": [{"course_code": "C1", "subject_name": "程式設計", "class_code": "101", "grade_level": 1,
                          "credits": 2, "teacher_user_id": U["teacher"], "students": ["1", "2"]}]}


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("day"), school())["refused"] == []
    ce = school()  # another tenant (進修部) where s2 is a student too
    ce["students"] = ce["students"][1:]
    ce["sections"][0]["students"] = ["2"]
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("ce"), ce)["refused"] == []
    open_records_calendar(db, "day", school_year=115, semester=1, uploads=2)
    return db


def first_upload(db, who="s1", sha=SHA_A, description="期末專題"):
    with db.uow() as uow:
        t = usecases.issue_outcome_ticket(uow, student(who), section(db), description, "tk")
    arrive(db, signing.verify(t["ticket"], "tk", purpose=usecases.TICKET_PURPOSE), sha)
    return t["outcome_id"]


def section(db):
    return str(next(s["id"] for s in db.rows("sections") if s["tenant"] == "day"))


def arrive(db, claims, sha, at=None, filename="a.pdf"):
    """The files service's outcome-uploaded for a stored file of this ticket."""
    env = events.make_event(events.OUTCOME_UPLOADED, "day", {
        k: claims[k] for k in ("outcome_id", "student_id", "student_user_id", "section_id", "teacher_user_id",
                               "school_year", "semester", "course_code", "subject_name", "description")}
        | {"file_id": str(uuid.uuid4()), "filename": filename, "content_type": "application/pdf", "size": 10,
           "sha256": sha, "uploaded_at": at or events.utcnow()})
    with db.uow() as uow:
        usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, env))
    return env


def decided(db, outcome_id, event, **extra):
    o = outcome(db, outcome_id)
    base = {"task_id": str(uuid.uuid4()), "outcome_id": outcome_id, "student_id": str(o["student_id"]),
            "student_user_id": U["s1"], "sha256": o["sha256"], "acting_for": None}
    if event == events.CERTIFICATION_RETURNED:
        p = base | {"returned_by": U["teacher"], "reason_code": "incomplete", "reason": "請補上封面",
                    "returned_at": events.utcnow()}
        handler = usecases.record_returned
    else:
        p = base | {"section_id": str(o["section_id"]), "school_year": 115, "semester": 1, "course_code": "C1",
                    "subject_name": "程式設計", "description": o["description"], "certified_by": U["teacher"],
                    "certified_at": events.utcnow()}
        handler = usecases.record_certified
    env = events.make_event(event, "day", p, producer="certification")
    with db.uow() as uow:
        handler(uow, events.load_event(event, env))


def outcome(db, outcome_id):
    return next(o for o in db.rows("outcomes") if str(o["id"]) == outcome_id)


def reupload(db, outcome_id, description="期末專題（補封面）", who="s1", key=None):
    with db.uow() as uow:
        t = usecases.issue_reupload_ticket(uow, student(who), outcome_id, description, "tk", upload_key=key)
    return t, signing.verify(t["ticket"], "tk", purpose=usecases.TICKET_PURPOSE)


def test_a_returned_outcome_uploaded_again_keeps_its_id_and_waits_for_a_decision(db):
    oid = first_upload(db)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    assert outcome(db, oid)["status"] == "returned"
    t, claims = reupload(db, oid)
    assert t["outcome_id"] == oid and claims["outcome_id"] == oid and claims["attempt"] == 2
    assert claims["section_id"] == section(db) and claims["description"] == "期末專題（補封面）"
    arrive(db, claims, SHA_B, filename="b.pdf")
    o = outcome(db, oid)
    assert (o["status"], o["sha256"], o["filename"], o["description"], o["return_reason"], o["upload_round"]) == \
        ("uploaded", SHA_B, "b.pdf", "期末專題（補封面）", None, 2)
    last = db.rows("record_changes")[-1]
    assert last["action"] == "reuploaded" and last["actor_user_id"] == uuid.UUID(U["s1"])
    assert (last["before"]["status"], last["after"]["status"]) == ("returned", "uploaded")
    assert (last["before"]["sha256"], last["after"]["sha256"]) == (SHA_A, SHA_B)
    # returned again and uploaded a third time: attempt 3, round 3
    decided(db, oid, events.CERTIFICATION_RETURNED)
    _, claims = reupload(db, oid)
    assert claims["attempt"] == 3
    arrive(db, claims, SHA_A)
    assert outcome(db, oid)["upload_round"] == 3


def test_only_the_students_own_returned_outcome_may_be_uploaded_again(db):
    oid = first_upload(db)
    with pytest.raises(OutcomeNotReturned):  # still waiting for its teacher
        reupload(db, oid)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    with pytest.raises(NotFound):  # another student of the same class: same answer as unknown
        reupload(db, oid, who="s2")
    with db.uow() as uow, pytest.raises(NotFound):  # another tenant
        usecases.issue_reupload_ticket(uow, student("s2", tenant="ce"), oid, "x", "tk")
    with pytest.raises(NotFound):
        reupload(db, "not-a-uuid")
    assert outcome(db, oid)["status"] == "returned" and outcome(db, oid)["ticket_attempts"] == 1


def test_the_reupload_must_fit_the_quota_again_and_holds_one_slot(db):
    oid = first_upload(db)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    other = first_upload(db, description="第二件")
    first_upload(db, description="第三件")  # the freed slot went to another outcome: 2 of 2
    with pytest.raises(OutcomeQuotaExceeded):
        reupload(db, oid)
    decided(db, other, events.CERTIFICATION_RETURNED)  # one free again
    reupload(db, oid, key="k1")
    with db.uow() as uow:
        q = usecases.outcome_quota(uow, student(), 115, 1)
    assert (q["used"], q["held"], q["left"]) == (1, 1, 0)
    reupload(db, oid, key="k2")  # asked again while its slot is held: no second slot
    with db.uow() as uow:
        assert usecases.outcome_quota(uow, student(), 115, 1)["held"] == 1
    with pytest.raises(IdempotencyKeyReused):  # a key of another upload
        reupload(db, other, key="k2")


def test_the_identical_file_of_a_certified_outcome_keeps_its_certification(db):
    oid = first_upload(db)
    decided(db, oid, events.CERTIFIED)
    claims = dict(signing.verify(reupload_claims_for(db, oid), "tk", purpose=usecases.TICKET_PURPOSE))
    arrive(db, claims, SHA_A, filename="restored.pdf")
    o = outcome(db, oid)
    assert (o["status"], o["filename"], o["upload_round"]) == ("certified", "restored.pdf", 1)
    assert db.rows("record_changes")[-1]["action"] == "reuploaded_same_file"


def reupload_claims_for(db, oid):
    """A ticket for the outcome as files would get one (a restore): signed by records' key."""
    o = outcome(db, oid)
    st = next(s for s in db.rows("students") if s["id"] == o["student_id"])
    return signing.sign({"kind": "outcome", "outcome_id": oid, "tenant": "day", "student_id": str(st["id"]),
                         "student_user_id": U["s1"], "section_id": str(o["section_id"]),
                         "teacher_user_id": U["teacher"], "school_year": 115, "semester": 1, "course_code": "C1",
                         "subject_name": "程式設計", "description": o["description"], "attempt": 2},
                        "tk", ttl=60, purpose=usecases.TICKET_PURPOSE)


def test_an_older_upload_delivered_late_changes_nothing(db):
    oid = first_upload(db)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    _, claims = reupload(db, oid)
    arrive(db, claims, SHA_B)
    arrive(db, claims, SHA_A, at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    assert (outcome(db, oid)["sha256"], outcome(db, oid)["upload_round"]) == (SHA_B, 2)


def refused(db, oid, attempt, code="upload_expired"):
    """files' upload-refused for the re-upload `attempt` of outcome `oid` (it ended without a file)."""
    o = outcome(db, oid)
    env = events.make_event(events.UPLOAD_REFUSED, "day", {
        "kind": "outcome", "subject_id": oid, "student_id": str(o["student_id"]), "student_user_id": U["s1"],
        "school_year": 115, "semester": 1, "code": code, "refused_at": events.utcnow(), "attempt": attempt},
        producer="files")
    with db.uow() as uow:
        usecases.release_refused_upload(uow, events.load_event(events.UPLOAD_REFUSED, env))


def held(db):
    with db.uow() as uow:
        return usecases.outcome_quota(uow, student(), 115, 1)["held"]


def test_an_older_attempt_ending_late_keeps_the_newer_attempts_slot(db):
    """Attempt 2 abandoned, attempt 3 asked for (same outcome, same slot), then files reports
    attempt 2 expired: attempt 3's slot stays held, so no other outcome can take it meanwhile."""
    oid = first_upload(db)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    _, claims2 = reupload(db, oid, key="k2")
    _, claims3 = reupload(db, oid, key="k3")
    assert (claims2["attempt"], claims3["attempt"], held(db)) == (2, 3, 1)
    refused(db, oid, attempt=2)
    assert held(db) == 1
    first_upload(db, description="第二件")  # the last free slot of 2
    with db.uow() as uow, pytest.raises(OutcomeQuotaExceeded):  # attempt 3's slot was not given away
        usecases.issue_outcome_ticket(uow, student(), section(db), "第三件", "tk")
    refused(db, oid, attempt=3)  # the newest attempt ending does free it
    assert held(db) == 0


def test_an_upload_refused_without_an_attempt_still_frees_the_slot(db):
    """Events from files before `attempt` was carried: the slot is freed as it always was."""
    oid = first_upload(db)
    decided(db, oid, events.CERTIFICATION_RETURNED)
    reupload(db, oid)
    assert held(db) == 1
    refused(db, oid, attempt=None)
    assert held(db) == 0
