"""An upload key (the client's Idempotency-Key) names one upload: a retry gets the same ticket
and no second slot, and a reuse for another section, term or 簡述 is refused, so no reuse can
carry a quota slot past a quota check (issue 6 item 9). Real PostgreSQL."""
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from portfolio_common.crypto import NationalIdVault
from records import usecases
from records.errors import IdempotencyKeyReused
from records.orm import upload_reservations
from tests.support.calendar import open_records_calendar

VAULT = NationalIdVault("test-key")
U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "teacher")}


def student(name="s1"):
    return caller_mod.Caller(user_id=U[name], username=name, tenant="day", roles=("student",))


def term(semester, sections):
    return {"school_year": 115, "semester": semester,
            "classes": [{"code": "101", "name": "一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": U["s1"], "class_code": "101", "seat_no": 1,
                 "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": U["s2"], "class_code": "101", "seat_no": 2,
                 "national_id": "B123456780"}],
            "sections": [{"course_code": code, "subject_name": name, "class_code": "101", "grade_level": 1,
                          "credits": 2, "teacher_user_id": U["teacher"], "students": ["1", "2"]}
                         for code, name in sections]}


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("day"),
                                      term(1, [("C1", "程式設計"), ("C2", "電子學")]))["refused"] == []
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, caller_mod.system_caller("day"),
                                      term(2, [("C3", "數位邏輯")]))["refused"] == []
    for semester in (1, 2):
        open_records_calendar(db, "day", school_year=115, semester=semester)
    return db


def sec(db, code):
    return str(next(s["id"] for s in db.rows("sections") if s["course_code"] == code))


def ticket(db, section, description, key, who=None):
    with db.uow() as uow:
        return usecases.issue_outcome_ticket(uow, who or student(), section, description, "tk", upload_key=key)


def refused(db, section, description, key, who=None):
    with pytest.raises(Exception) as e:
        ticket(db, section, description, key, who)
    return e.value


def arrive(db, section_code, semester, description, who="s1"):
    """An outcome of the student's that has arrived (the files service's event, as it sends it)."""
    st = next(s for s in db.rows("students") if str(s["user_id"]) == U[who])
    env = events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(st["id"]),
        "student_user_id": U[who], "section_id": sec(db, section_code), "teacher_user_id": U["teacher"],
        "school_year": 115, "semester": semester, "course_code": section_code, "subject_name": "x",
        "description": description, "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
        "sha256": "0" * 64, "uploaded_at": events.utcnow()})
    with db.uow() as uow:
        usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, env))


@pytest.mark.parametrize("section_code,description", [
    ("C2", "期末專題"),        # another section of the same term
    ("C3", "期末專題"),        # a section of another term
    ("C1", "期中報告"),        # another 簡述
    ("C3", "期中報告"),        # everything different
], ids=["other-section", "other-term", "other-description", "all-different"])
def test_a_key_reused_for_another_upload_is_refused_and_nothing_changes(db, section_code, description):
    first = ticket(db, sec(db, "C1"), "期末專題", "key-1")
    before = db.rows("upload_reservations")
    err = refused(db, sec(db, section_code), description, "key-1")
    assert isinstance(err, IdempotencyKeyReused) and err.code == "idempotency_key_reused"
    assert db.rows("upload_reservations") == before
    again = ticket(db, sec(db, "C1"), " 期末專題 ", "key-1")  # the real retry still works (簡述 trimmed)
    assert again["outcome_id"] == first["outcome_id"]
    claims = signing.verify(again["ticket"], "tk", purpose=usecases.TICKET_PURPOSE)
    assert (claims["section_id"], claims["description"]) == (sec(db, "C1"), "期末專題")


def test_a_key_cannot_carry_a_slot_of_one_term_past_the_quota_of_another(db):
    """The attack that was open: reserve in term 1, fill term 2, then reuse the key for term 2."""
    ticket(db, sec(db, "C1"), "上學期的成果", "carry-me")
    for i in range(6):
        arrive(db, "C3", 2, f"下學期成果 {i}")
    assert refused(db, sec(db, "C3"), "第七件", "fresh-key").code == "outcome_quota_exceeded"
    assert refused(db, sec(db, "C3"), "上學期的成果", "carry-me").code == "idempotency_key_reused"
    assert refused(db, sec(db, "C3"), "第七件", "carry-me").code == "idempotency_key_reused"


def test_a_lapsed_reservation_meets_the_quota_again_before_it_is_renewed(db):
    """A reservation stops counting when it lapses (15 minutes); its key must not then bring
    it back past six."""
    first = ticket(db, sec(db, "C1"), "等太久的上傳", "slow")
    with db.engine.begin() as c:
        c.execute(upload_reservations.update().values(expires_at=sa.func.now() - sa.text("interval '1 minute'")))
    for i in range(6):  # six slots taken meanwhile: the lapsed one did not count
        ticket(db, sec(db, "C1"), f"其他 {i}", f"other-{i}")
    assert refused(db, sec(db, "C1"), "等太久的上傳", "slow").code == "outcome_quota_exceeded"
    with db.uow() as uow:  # one of the six is refused by the files service: its slot comes back
        usecases.release_outcome_ticket(uow, student(), ticket(db, sec(db, "C1"), "其他 0", "other-0")["outcome_id"])
    renewed = ticket(db, sec(db, "C1"), "等太久的上傳", "slow")
    assert renewed["outcome_id"] == first["outcome_id"]
    row = next(r for r in db.rows("upload_reservations") if r["upload_key"] == "slow")
    with db.engine.connect() as c:
        assert c.execute(sa.select(sa.func.now() < row["expires_at"])).scalar_one()


def test_keys_are_per_student(db):
    mine = ticket(db, sec(db, "C1"), "同一把鑰匙", "shared-key")
    theirs = ticket(db, sec(db, "C2"), "別人的上傳", "shared-key", who=student("s2"))
    assert mine["outcome_id"] != theirs["outcome_id"]


def test_a_reservation_from_before_keys_were_bound_is_bound_on_first_reuse(db):
    ticket(db, sec(db, "C1"), "舊的保留", "legacy")
    with db.engine.begin() as c:  # as migration 0006 leaves a reservation made before it
        c.execute(upload_reservations.update().values(section_id=None, description=None))
    assert refused(db, sec(db, "C3"), "舊的保留", "legacy").code == "idempotency_key_reused"  # its term is known
    ticket(db, sec(db, "C2"), "改過的簡述", "legacy")
    (row,) = db.rows("upload_reservations")
    assert (str(row["section_id"]), row["description"]) == (sec(db, "C2"), "改過的簡述")
    assert refused(db, sec(db, "C1"), "改過的簡述", "legacy").code == "idempotency_key_reused"
