"""Records use cases against a real PostgreSQL database."""
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from portfolio_common.crypto import NationalIdVault
from records import usecases
from records.profile import usecases as profile_usecases
from records.orm import outcomes
from tests.support.calendar import open_records_calendar

VAULT = NationalIdVault("test-key")
U = {name: str(uuid.uuid4()) for name in ("s1", "s2", "s3", "teacher", "ce_student")}


def system(tenant):
    return caller_mod.system_caller(tenant)


def person(name, tenant="day", role="student"):
    return caller_mod.Caller(user_id=U[name], username=name, tenant=tenant, roles=(role,))


def term(**over):
    data = {"school_year": 115, "semester": 1,
            "classes": [{"code": "101", "name": "一甲", "homeroom_user_id": None}],
            "students": [
                {"student_no": "1", "name": "陳怡君", "user_id": U["s1"], "class_code": "101", "seat_no": 1, "national_id": "A123456789"},
                {"student_no": "2", "name": "林柏宇", "user_id": U["s2"], "class_code": "101", "seat_no": 2, "national_id": "B123456780"},
                {"student_no": "3", "name": "黃雅婷", "user_id": U["s3"], "class_code": "101", "seat_no": 3, "national_id": "F131104093"}],
            "sections": [{"course_code": "C1", "subject_name": "程式設計", "class_code": "101", "grade_level": 1,
                          "credits": 3, "teacher_user_id": U["teacher"], "students": ["1", "2"]}]}
    data.update(over)
    return data


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), term())
    assert res["refused"] == []
    open_records_calendar(db, "day", school_year=115, semester=1)
    return db


def section_id(db):
    return str(db.rows("sections")[0]["id"])


def test_import_is_idempotent_and_attributed(db):
    before = (len(db.rows("students")), len(db.rows("record_changes")))
    with db.uow() as uow:
        usecases.import_school(uow, VAULT, system("day"), term())
    assert (len(db.rows("students")), len(db.rows("record_changes"))) == before
    changed = term()
    changed["students"][0]["name"] = "陳怡君（更名）"
    with db.uow() as uow:
        usecases.import_school(uow, VAULT, system("day"), changed)
    last = db.rows("record_changes")[-1]
    assert last["action"] == "updated" and last["before"]["name"] == "陳怡君" and last["after"]["name"] == "陳怡君（更名）"
    assert last["actor_user_id"] == uuid.UUID(system("day").user_id)


def test_national_ids_are_encrypted_validated_and_unique(db):
    with db.engine.connect() as c:
        raw = c.execute(sa.text("select national_id_enc::text, national_id_hash from students")).all()
    assert all("A123456789" not in r[0] and "A123456789" not in r[1] for r in raw)
    bad = term(students=[
        {"student_no": "9", "name": "X", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 9, "national_id": "A123456788"},
        {"student_no": "8", "name": "Y", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 8, "national_id": "A123456789"}],
        sections=[])
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), bad)
    assert sorted(r["code"] for r in res["refused"]) == ["duplicate_national_id", "national_id_checksum"]
    assert "A12345678" not in str(res)
    with db.uow() as uow:
        listed = profile_usecases.list_students(uow, VAULT, system("day"))
    assert {s["national_id_masked"] for s in listed} >= {"A12*****89"}


def test_one_national_id_twice_in_one_file_is_refused_and_one_number_twice_is_one_student(db):
    """The school import looks its students up once before the rows (by number and by ID hash)
    and keeps that current as it writes: a second row with an ID the first row just took is
    refused (nothing written), and a number named twice is one student, written twice."""
    from tests.reliability.burst import valid_national_ids
    one, two = valid_national_ids(2, "F", 9)
    before = len(db.rows("students"))
    twice_id = term(students=[
        {"student_no": "71", "name": "甲", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 71,
         "national_id": one},
        {"student_no": "72", "name": "乙", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 72,
         "national_id": one}], sections=[])
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), twice_id)
    assert [(r["student_no"], r["code"]) for r in res["refused"]] == [("72", "duplicate_national_id")]
    assert len(db.rows("students")) == before
    uid = str(uuid.uuid4())
    twice_no = term(students=[
        {"student_no": "73", "name": "丙", "user_id": uid, "class_code": "101", "seat_no": 73, "national_id": one},
        {"student_no": "73", "name": "丙（更正）", "user_id": uid, "class_code": "101", "seat_no": 74,
         "national_id": one}], sections=[])
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), twice_no)
    assert res["refused"] == [] and res["students"]["created"] == ["73"] and res["students"]["updated"] == ["73"]
    (row,) = [r for r in db.rows("students") if r["student_no"] == "73"]
    assert (row["name"], row["seat_no"]) == ("丙（更正）", 74)
    # a corrected ID frees the old one for another student in the same file
    moved = term(students=[
        {"student_no": "73", "name": "丙（更正）", "user_id": uid, "class_code": "101", "seat_no": 74,
         "national_id": two},
        {"student_no": "75", "name": "丁", "user_id": str(uuid.uuid4()), "class_code": "101", "seat_no": 75,
         "national_id": one}], sections=[])
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), moved)
    assert res["refused"] == [], res["refused"]


def test_upload_ticket_rules(db):
    sec = section_id(db)
    with db.uow() as uow:
        t = usecases.issue_outcome_ticket(uow, person("s1"), sec, " 期末專題 ", "tk")
    claims = signing.verify(t["ticket"], "tk", purpose=usecases.TICKET_PURPOSE)
    assert claims["description"] == "期末專題" and claims["teacher_user_id"] == U["teacher"]
    # the student's class rides along to certification (oversight per class; no homeroom set)
    assert (claims["class_code"], claims["class_name"], claims["homeroom_user_id"]) == ("101", "一甲", None)
    cases = [(person("s3"), "not_enrolled"),                       # same class, not in this section
             (person("teacher", role="subject_teacher"), "not_allowed"),
             (person("s1", tenant="ce"), "not_a_student")]           # right person, wrong tenant
    for who, code in cases:
        with pytest.raises(Exception) as e, db.uow() as uow:
            usecases.issue_outcome_ticket(uow, who, sec, "x", "tk")
        assert e.value.code == code
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s1"), str(uuid.uuid4()), "x", "tk")
    assert e.value.code == "not_found"
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s1"), sec, "字" * 101, "tk")
    assert e.value.code == "description_too_long"


def test_six_outcomes_per_semester_then_refused(db):
    sec = section_id(db)
    student = db.rows("students", )[0]
    for i in range(6):
        env = events.make_event(events.OUTCOME_UPLOADED, "day", {
            "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(student["id"]),
            "student_user_id": str(student["user_id"]), "section_id": sec, "teacher_user_id": U["teacher"],
            "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計",
            "description": f"成果 {i}", "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
            "sha256": "0" * 64, "uploaded_at": events.utcnow()})
        with db.uow() as uow:
            usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, env))
    who = caller_mod.Caller(user_id=str(student["user_id"]), username="s", tenant="day", roles=("student",))
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, who, sec, "第七件", "tk")
    assert e.value.code == "outcome_quota_exceeded"
    with db.engine.begin() as c:  # a returned outcome frees its place
        c.execute(outcomes.update().where(outcomes.c.description == "成果 0").values(status="returned"))
    with db.uow() as uow:
        assert usecases.issue_outcome_ticket(uow, who, sec, "第七件", "tk")["ticket"]


def test_outcomes_are_private_to_their_student(db):
    sec = section_id(db)
    student = db.rows("students")[0]
    oid = str(uuid.uuid4())
    env = events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": oid, "file_id": str(uuid.uuid4()), "student_id": str(student["id"]),
        "student_user_id": str(student["user_id"]), "section_id": sec, "teacher_user_id": U["teacher"],
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64,
        "uploaded_at": events.utcnow()})
    with db.uow() as uow:
        usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, env))
    owner = caller_mod.Caller(user_id=str(student["user_id"]), username="s", tenant="day", roles=("student",))
    with db.uow() as uow:
        assert str(usecases.get_outcome(uow, owner, oid)["id"]) == oid
    with db.uow() as uow:
        assert str(usecases.get_outcome(uow, person("teacher", role="subject_teacher"), oid)["id"]) == oid
    answers = []
    for who, target in ((person("s2"), oid), (person("s2"), str(uuid.uuid4())),
                        (caller_mod.Caller(owner.user_id, "s", "ce", ("student",)), oid), (person("s2"), "junk")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            usecases.get_outcome(uow, who, target)
        answers.append((e.value.code, e.value.text))
    assert len(set(answers)) == 1, "another's outcome reads exactly like a missing one"


def test_tickets_hold_quota_slots_so_parallel_uploads_cannot_exceed_six(db):
    sec = section_id(db)
    tickets = []
    for i in range(6):  # six tickets issued, no outcome has arrived yet
        with db.uow() as uow:
            tickets.append(usecases.issue_outcome_ticket(uow, person("s2"), sec, f"平行上傳 {i}", "tk"))
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s2"), sec, "第七件", "tk")
    assert e.value.code == "outcome_quota_exceeded"
    with db.uow() as uow:  # files refused one of them: its slot comes back at once
        assert usecases.release_outcome_ticket(uow, person("s2"), tickets[0]["outcome_id"])
    with db.uow() as uow:  # another student cannot release someone else's slot
        assert not usecases.release_outcome_ticket(uow, person("s1"), tickets[1]["outcome_id"])
    with db.uow() as uow:
        assert usecases.issue_outcome_ticket(uow, person("s2"), sec, "第七件", "tk")["ticket"]


def test_only_the_registrar_sees_a_full_national_id_and_each_look_is_recorded(db):
    sid = str(db.rows("students")[0]["id"])
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg", tenant="day", roles=("registrar",))
    with db.uow() as uow:
        assert usecases.reveal_national_id(uow, VAULT, registrar, sid)["national_id"] == "A123456789"
    assert db.rows("record_changes")[-1]["action"] == "national_id_viewed"
    for who in (person("s1"), caller_mod.Caller(registrar.user_id, "reg", "ce", ("registrar",))):
        with pytest.raises(Exception) as e, db.uow() as uow:
            usecases.reveal_national_id(uow, VAULT, who, sid)
        assert e.value.code in ("not_allowed", "not_found")


def test_reimport_reports_per_student_and_keeps_homeroom_teachers(db):
    homeroom = str(uuid.uuid4())
    with db.uow() as uow:
        usecases.import_school(uow, VAULT, system("day"), term(classes=[
            {"code": "101", "name": "一甲", "homeroom_user_id": homeroom}], sections=[]))
    changed = term(sections=[])  # a roster without homeroom teachers
    changed["students"][1]["seat_no"] = 9
    with db.uow() as uow:
        res = usecases.import_school(uow, VAULT, system("day"), changed)
    assert res["students"] == {"created": [], "updated": ["2"], "unchanged": ["1", "3"]}
    assert str(db.rows("classes")[0]["homeroom_user_id"]) == homeroom


def test_the_same_upload_key_gets_the_same_ticket_and_one_slot(db):
    sec = section_id(db)
    with db.uow() as uow:
        first = usecases.issue_outcome_ticket(uow, person("s1"), sec, "重試", "tk", upload_key="k-1")
    for _ in range(3):  # retries, or the same call redelivered after a lost reply
        with db.uow() as uow:
            again = usecases.issue_outcome_ticket(uow, person("s1"), sec, "重試", "tk", upload_key="k-1")
        assert again["outcome_id"] == first["outcome_id"]
    assert len(db.rows("upload_reservations")) == 1
    for i in range(5):  # five more slots: six in all, the key's one counted once
        with db.uow() as uow:
            usecases.issue_outcome_ticket(uow, person("s1"), sec, f"其他 {i}", "tk", upload_key=f"k-{i + 2}")
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s1"), sec, "第七件", "tk", upload_key="k-99")
    assert e.value.code == "outcome_quota_exceeded"


def _shared_case(name):
    import os
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, "..", "..", "..", "..", "..", "shared", "cases", name, "description.txt")
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def test_shared_cases_U09_and_U11_get_the_verdict_the_portal_counter_shows(db):
    """U09: 50 characters, CRLF, 49 characters is 100 (a line break counts once): accepted.
    U11: only zero-width spaces is empty: description_empty. (portfolio_common.text)"""
    sec = section_id(db)
    u09, u11 = _shared_case("U09_crlf_description"), _shared_case("U11_zero_width_description")
    with db.uow() as uow:
        t = usecases.issue_outcome_ticket(uow, person("s1"), sec, u09, "tk")
    claims = signing.verify(t["ticket"], "tk", purpose=usecases.TICKET_PURPOSE)
    assert len(claims["description"]) == 100 and claims["description"] == u09.replace("\r\n", "\n")
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s1"), sec, u11, "tk")
    assert e.value.code == "description_empty"


def test_a_batch_of_uploads_is_one_transaction_with_one_chained_history(db):
    """record_outcomes_uploaded (issue 10): the batch's outcomes and history rows commit
    together, the history chain stays whole, a redelivered event changes nothing, and an event
    for an unknown student fails the whole batch (BatchEventHandler then applies it alone)."""
    from portfolio_common.errors import PermanentEventError
    from records.history import first_broken_link
    sec = section_id(db)
    student = db.rows("students")[0]

    def upload(i, student_id=None):
        return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, "day", {
            "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()),
            "student_id": student_id or str(student["id"]), "student_user_id": str(student["user_id"]),
            "section_id": sec, "teacher_user_id": U["teacher"], "school_year": 115, "semester": 1,
            "course_code": "C1", "subject_name": "程式設計", "description": f"批次 {i}", "filename": "a.pdf",
            "content_type": "application/pdf", "size": 10, "sha256": "0" * 64, "uploaded_at": events.utcnow()}))
    batch = [upload(i) for i in range(4)]
    history_before = len(db.rows("record_changes"))
    with pytest.raises(PermanentEventError), db.uow() as uow:
        usecases.record_outcomes_uploaded(uow, batch + [upload(9, student_id=str(uuid.uuid4()))])
    assert db.rows("outcomes") == [] and len(db.rows("record_changes")) == history_before
    with db.uow() as uow:
        assert usecases.record_outcomes_uploaded(uow, batch + [batch[0]]) == 4
    with db.uow() as uow:
        assert usecases.record_outcomes_uploaded(uow, batch) == 0
    assert sorted(o["description"] for o in db.rows("outcomes")) == [f"批次 {i}" for i in range(4)]
    rows = sorted(db.rows("record_changes"), key=lambda r: r["chain_seq"])
    assert len(rows) == history_before + 4 and first_broken_link(rows) is None


def test_a_ticket_whose_outcome_arrived_counts_once_among_outcomes_and_reservations(db):
    """The quota counts outcomes that count plus live reservations in one statement: a ticket
    whose upload arrived is counted as its outcome only (its reservation is used), one still
    on its way as its reservation; six in all, mixed, and the seventh is refused."""
    sec = section_id(db)
    student = next(r for r in db.rows("students") if str(r["user_id"]) == U["s2"])
    with db.uow() as uow:
        first = [usecases.issue_outcome_ticket(uow, person("s2"), sec, f"先到 {i}", "tk") for i in range(3)]
    for t in first[:2]:   # two of the three arrive
        env = events.make_event(events.OUTCOME_UPLOADED, "day", {
            "outcome_id": t["outcome_id"], "file_id": str(uuid.uuid4()), "student_id": str(student["id"]),
            "student_user_id": U["s2"], "section_id": sec, "teacher_user_id": U["teacher"],
            "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計",
            "description": "先到", "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
            "sha256": "0" * 64, "uploaded_at": events.utcnow()})
        with db.uow() as uow:
            assert usecases.record_outcome_uploaded(uow, events.load_event(events.OUTCOME_UPLOADED, env))
    for i in range(3):
        with db.uow() as uow:
            claims = signing.verify(usecases.issue_outcome_ticket(uow, person("s2"), sec, f"後到 {i}", "tk")["ticket"],
                                    "tk", purpose=usecases.TICKET_PURPOSE)
        assert claims["class_code"] == "101"
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.issue_outcome_ticket(uow, person("s2"), sec, "第七件", "tk")
    assert e.value.code == "outcome_quota_exceeded"
