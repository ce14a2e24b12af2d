"""One canonical payload per event, checked on both sides.

Producer side: the code that emits each event produces exactly the canonical fields.
Consumer side: every subscribed handler's use case applies the canonical envelope (with an
unknown field added, as a newer producer would send), and a redelivery changes nothing.
"""
import copy
import glob
import io
import json
import os
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.crypto import NationalIdVault
from portfolio_common.errors import PermanentEventError

HERE = os.path.dirname(__file__)
CANON = {os.path.basename(p)[:-5]: json.load(open(p, encoding="utf-8"))
         for p in glob.glob(os.path.join(HERE, "payloads", "*.json"))}


def canon(event, **payload_changes):
    env = copy.deepcopy(CANON[event])
    env["payload"].update(payload_changes)
    return env


def test_every_event_has_one_canonical_payload():
    assert set(CANON) == set(events.PAYLOADS)


@pytest.mark.parametrize("event", sorted(events.PAYLOADS))
def test_canonical_payload_is_exactly_the_published_schema(event):
    env = CANON[event]
    assert env["event"] == event and env["producer"] in events.producers_of(event)
    assert set(env["payload"]) == set(events.PAYLOADS[event]().fields)
    strict = events.make_event(event, env["tenant"], events.PAYLOADS[event]().load(env["payload"]),
                               producer=env["producer"])
    assert strict["payload"] == env["payload"]
    tolerant = copy.deepcopy(env)
    tolerant["payload"]["field_from_the_future"] = 1
    assert "field_from_the_future" not in events.load_event(event, tolerant)["payload"]


def test_subscriptions_match_the_handlers_in_code():
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from portfolio_common.nameko_kit import ReliableEventHandler
    import accounts.service, certification.service, records.service, submission.service  # noqa: E401
    found = set()
    for mod in (accounts.service, records.service, certification.service, submission.service):
        cls = next(v for v in vars(mod).values() if isinstance(v, type) and hasattr(v, "name")
                   and v.__module__ == mod.__name__)
        # the service's own methods and those of its areas' mixins (records/areas.py), as nameko sees them
        for attr in dir(cls):
            fn = getattr(cls, attr)
            for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(ep, ReliableEventHandler):
                    assert ep.source_service in events.producers_of(ep.event_type), attr
                    found.add((ep.event_type, ep.source_service, cls.name, attr))
                elif "EventHandler" in type(ep).__name__:
                    pytest.fail(f"{cls.name}.{attr} uses a plain EventHandler (no retry, no DLQ)")
    import files.locked, files.sealing   # noqa: E401 - files is Flask: its consumers are pika threads
    found |= set(files.sealing.HANDLERS) | set(files.locked.HANDLERS)
    assert found == set(events.subscriptions())


def assert_matches_canon(emitted, event):
    """What the producer really wrote to its outbox has the canonical envelope and fields."""
    assert set(emitted) == set(CANON[event])
    assert emitted["event"] == event and emitted["producer"] in events.producers_of(event)
    assert set(emitted["payload"]) == set(CANON[event]["payload"])
    events.load_event(event, emitted)  # and a consumer can read it


# ------------------------------------------------------------------ records (consumer)

@pytest.fixture
def records_db(service_db):
    """records with the canonical student and section in place."""
    from records.orm import classes, enrolments, sections, students
    db = service_db("records")
    p = CANON["outcome-uploaded"]["payload"]
    vault = NationalIdVault("k")
    with db.engine.begin() as c:
        cid = uuid.uuid4()
        c.execute(classes.insert().values(id=cid, tenant="day", school_year=115, code="101", name="一甲"))
        c.execute(students.insert().values(
            id=p["student_id"], tenant="day", user_id=p["student_user_id"], student_no="1150001", name="陳怡君",
            class_id=cid, national_id_enc=vault.encrypt("A123456789"), national_id_hash=vault.lookup_hash("A123456789")))
        c.execute(sections.insert().values(
            id=p["section_id"], tenant="day", school_year=115, semester=1, course_code=p["course_code"],
            subject_name=p["subject_name"], class_code="101", grade_level=1, credits=3,
            teacher_user_id=p["teacher_user_id"]))
        c.execute(enrolments.insert().values(section_id=p["section_id"], student_id=p["student_id"]))
    return db


def _apply_twice(db, fn, env):
    tolerant = copy.deepcopy(env)
    tolerant["payload"]["field_from_the_future"] = "ignored"
    for _ in range(2):  # the second delivery is a redelivery: nothing changes
        with db.uow() as uow:
            fn(uow, events.load_event(env["event"], tolerant))


def test_records_consumes_the_whole_outcome_lifecycle(records_db):
    from records import usecases
    oid = CANON["outcome-uploaded"]["payload"]["outcome_id"]
    _apply_twice(records_db, usecases.record_outcome_uploaded, CANON["outcome-uploaded"])
    (row,) = records_db.rows("outcomes")
    assert row["status"] == "uploaded" and row["sha256"] == CANON["outcome-uploaded"]["payload"]["sha256"]
    _apply_twice(records_db, usecases.record_returned, CANON["certification-returned"])
    assert records_db.rows("outcomes")[0]["return_reason"] == "請補上封面與組員名單"
    _apply_twice(records_db, usecases.record_certified, CANON["certified"])
    row = records_db.rows("outcomes")[0]
    assert row["status"] == "certified" and row["return_reason"] is None
    _apply_twice(records_db, usecases.record_withdrawn, CANON["certification-withdrawn"])
    row = records_db.rows("outcomes")[0]
    assert row["status"] == "uploaded" and row["certified_by"] is None
    again = canon("certified", certified_at="2026-11-30T03:00:00+00:00")   # the next round, certified
    again["event_id"] = str(uuid.uuid4())
    _apply_twice(records_db, usecases.record_certified, again)
    _apply_twice(records_db, usecases.record_selection_locked, CANON["selection-locked"])
    assert records_db.rows("outcomes")[0]["selected_locked"] is True
    changes = records_db.rows("record_changes")
    assert [c["action"] for c in changes] == ["uploaded", "returned", "certified", "certification_withdrawn",
                                             "certified", "selection_locked"]
    assert all(c["actor_user_id"] and c["at"] for c in changes)
    assert str(records_db.rows("outcomes")[0]["id"]) == oid


def test_records_dead_letters_an_upload_for_an_unknown_student(records_db):
    from records import usecases
    env = canon("outcome-uploaded", student_id=str(uuid.uuid4()))
    with pytest.raises(PermanentEventError):
        with records_db.uow() as uow:
            usecases.record_outcome_uploaded(uow, events.load_event(env["event"], env))
    assert records_db.rows("outcomes") == [] and records_db.rows("processed_events") == []


def test_records_consumes_performance_uploaded_as_the_proof_of_a_known_performance(records_db):
    import datetime as dt
    from records.performances import usecases as perf
    p = CANON["performance-uploaded"]["payload"]
    with records_db.uow() as uow:
        uow.performances.add({"id": uuid.UUID(p["performance_id"]), "tenant": "day",
                              "student_id": uuid.UUID(p["student_id"]), "school_year": p["school_year"],
                              "kind": p["performance_kind"], "fields": {}, "description": p["description"],
                              "entered_by": p["entered_by"], "entered_by_user": uuid.UUID(p["student_user_id"]),
                              "recorded_via": "form", "state": "proof_missing",
                              "created_at": dt.datetime.now(dt.timezone.utc)})
        uow.commit()
    _apply_twice(records_db, perf.attach_proof, CANON["performance-uploaded"])
    (row,) = records_db.rows("performances")
    assert (row["state"], row["sha256"], row["filename"], row["version"]) == ("ready", p["sha256"], p["filename"], 2)
    assert [c["action"] for c in records_db.rows("record_changes")] == ["proof_attached"]


def test_records_consumes_proof_uploaded_as_the_proof_of_a_known_competition(records_db):
    import datetime as dt
    from records.itemproofs import usecases as proofs
    p = CANON["proof-uploaded"]["payload"]
    with records_db.uow() as uow:
        uow.competitions.s.execute(uow.competitions.t.insert().values(
            id=uuid.UUID(p["item_id"]), tenant="day", student_id=uuid.UUID(p["student_id"]),
            school_year=p["school_year"], semester=p["semester"], recorded_via="form",
            recorded_at=dt.datetime.now(dt.timezone.utc), version=1, name="校內科展", content="物理組",
            result="第一名", announced_on=dt.date(2026, 11, 10)))
        uow.commit()
    _apply_twice(records_db, proofs.attach_item_proof, CANON["proof-uploaded"])
    (row,) = records_db.rows("competitions")
    assert (str(row["proof_file_id"]), row["proof_sha256"], row["proof_filename"], row["version"]) == \
        (p["file_id"], p["sha256"], p["filename"], 1)
    # attributed to the uploader the event names, not to the consumer (系統)
    assert [(c["action"], str(c["actor_user_id"])) for c in records_db.rows("record_changes")] == \
        [("proof_attached", p["uploader_user_id"])]


def test_records_produces_student_status_changed(records_db):
    from records.status import usecases as status
    p = CANON["student-status-changed"]["payload"]
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))
    with records_db.uow() as uow:
        status.record_status_change(uow, registrar, p["student_id"], {
            "change": p["change"], "effective_on": p["effective_on"], "other_school_code": p["other_school_code"]})
    (emitted,) = records_db.outbox_bodies("student-status-changed")
    assert_matches_canon(emitted, "student-status-changed")
    assert emitted["payload"] == p and emitted["tenant"] == "day"


# ------------------------------------------------------------------ certification (both sides)

def teacher(tenant="day"):
    return caller_mod.Caller(user_id=CANON["outcome-uploaded"]["payload"]["teacher_user_id"], username="t",
                             tenant=tenant, roles=("subject_teacher",))


def test_certification_consumes_uploads_and_produces_certified_and_returned(service_db):
    from certification import usecases
    from tests.support.calendars import calendar_changed
    db = service_db("certification")
    with db.uow() as uow:   # the term's calendar first: no calendar, no decision
        usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed("day")))
    _apply_twice(db, usecases.create_task, CANON["outcome-uploaded"])
    second = canon("outcome-uploaded", outcome_id=str(uuid.uuid4()))
    second["event_id"] = str(uuid.uuid4())
    _apply_twice(db, usecases.create_task, second)
    tasks = db.rows("tasks")
    assert len(tasks) == 2
    with db.uow() as uow:
        res = usecases.certify(uow, teacher(), [str(tasks[0]["id"])])
    assert res["certified"] == [str(tasks[0]["id"])]
    with db.uow() as uow:
        usecases.return_outcomes(uow, teacher(), [str(tasks[1]["id"])], "incomplete", "請補上封面與組員名單")
    with db.uow() as uow:
        usecases.withdraw_certifications(uow, teacher(), [str(tasks[0]["id"])], "誤按認證")
    (cert,) = db.outbox_bodies("certified")
    (ret,) = db.outbox_bodies("certification-returned")
    (wd,) = db.outbox_bodies("certification-withdrawn")
    assert_matches_canon(cert, "certified")
    assert_matches_canon(ret, "certification-returned")
    assert_matches_canon(wd, "certification-withdrawn")
    assert cert["payload"]["acting_for"] is None and cert["tenant"] == "day"


def test_certification_consumes_calendars_and_status_changes(service_db):
    from certification import usecases
    db = service_db("certification")
    _apply_twice(db, usecases.apply_calendar, CANON["calendar-changed"])
    (cal,) = db.rows("calendars")
    assert cal["version"] == 3 and str(cal["certification_closes_on"]) == "2027-02-19"
    _apply_twice(db, usecases.create_task, CANON["outcome-uploaded"])
    _apply_twice(db, usecases.close_for_status_change, canon("student-status-changed", change="transfer_out"))
    (task,) = db.rows("tasks")
    assert task["status"] == "closed" and "轉出" in task["closed_reason"]


# ------------------------------------------------------------------ submission (both sides)

def _open_selection_calendar(db, monkeypatch):
    """Submission's calendar holds the canonical term, and today is inside its selection window."""
    from portfolio_common import clock
    from submission.schoolcalendar import usecases as calendar
    cal = CANON["calendar-changed"]["payload"]
    monkeypatch.setattr(clock, "today_in_school", lambda: __import__("datetime").date.fromisoformat(
        cal["selection"]["opens_on"]))
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))
    with db.uow() as uow:
        calendar.set_term(uow, registrar, cal["school_year"], cal["semester"], {
            "starts_on": cal["starts_on"], "ends_on": cal["ends_on"], "national_deadline": cal["national_deadline"],
            **{f"{w}_{e}": cal[w][e] for w in ("upload", "certification", "selection") for e in ("opens_on", "closes_on")}})
    return registrar


def test_submission_drops_a_withdrawn_certification_from_the_selectable_copy(service_db, monkeypatch):
    from submission import usecases
    db = service_db("submission")
    _open_selection_calendar(db, monkeypatch)
    _apply_twice(db, usecases.record_certified, CANON["certified"])
    p = CANON["certified"]["payload"]
    student = caller_mod.Caller(user_id=p["student_user_id"], username="s", tenant="day", roles=("student",))
    with db.uow() as uow:
        usecases.select_outcomes(uow, student, 115, [p["outcome_id"]])
    _apply_twice(db, usecases.record_withdrawn, CANON["certification-withdrawn"])
    assert db.rows("certified_outcomes") == []
    (current,) = db.rows("student_selections")
    assert current["outcome_ids"] == [] and current["version"] == 2
    change = max(db.rows("selection_changes"), key=lambda r: r["version"])
    assert str(change["changed_by"]) == CANON["certification-withdrawn"]["payload"]["withdrawn_by"]
    (state,) = db.rows("outcome_states")   # waiting for the next round's decision
    assert state["state"] == "uploaded"


def test_submission_consumes_certified_and_produces_selection_locked(service_db, monkeypatch):
    from portfolio_common import clock
    from submission import usecases
    from submission.schoolcalendar import usecases as calendar
    from submission.selection import usecases as choice
    db = service_db("submission")
    cal = CANON["calendar-changed"]["payload"]
    monkeypatch.setattr(clock, "today_in_school", lambda: __import__("datetime").date.fromisoformat(
        cal["selection"]["opens_on"]))
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))
    with db.uow() as uow:
        calendar.set_term(uow, registrar, cal["school_year"], cal["semester"], {
            "starts_on": cal["starts_on"], "ends_on": cal["ends_on"], "national_deadline": cal["national_deadline"],
            **{f"{w}_{e}": cal[w][e] for w in ("upload", "certification", "selection") for e in ("opens_on", "closes_on")}})
    _apply_twice(db, choice.record_outcome_uploaded, CANON["outcome-uploaded"])
    _apply_twice(db, choice.record_certification_returned, CANON["certification-returned"])
    (state,) = db.rows("outcome_states")
    assert state["state"] == "returned" and state["reason"] == CANON["certification-returned"]["payload"]["reason"]
    _apply_twice(db, choice.record_performance_uploaded, CANON["performance-uploaded"])
    (perf,) = db.rows("performance_copies")
    assert perf["entered_by"] == "student" and perf["sha256"] == CANON["performance-uploaded"]["payload"]["sha256"]
    _apply_twice(db, usecases.record_certified, CANON["certified"])
    p = CANON["certified"]["payload"]
    student = caller_mod.Caller(user_id=p["student_user_id"], username="s", tenant="day", roles=("student",))
    with db.uow() as uow:
        usecases.select_outcomes(uow, student, 115, [p["outcome_id"]])
    with db.uow() as uow:
        choice.save_selection(uow, student, 115, performance_ids=[CANON["performance-uploaded"]["payload"]["performance_id"]])
    from submission.selection import consent
    with db.uow() as uow:
        consent.set_consent(uow, student, 115, True, consent.WORDING_VERSION)
    with db.uow() as uow:
        usecases.lock_selections(uow, registrar, 115)
    (locked,) = db.outbox_bodies("selection-locked")
    assert_matches_canon(locked, "selection-locked")
    assert locked["payload"]["outcome_ids"] == [p["outcome_id"]]


def test_submission_produces_calendar_changed_and_records_keeps_the_newest(service_db, records_db):
    from records.schoolcalendar import usecases as records_calendar
    from submission.schoolcalendar import usecases as calendar
    p = CANON["calendar-changed"]["payload"]
    db = service_db("submission")
    registrar = caller_mod.Caller(user_id=p["changed_by"], username="r", tenant="day", roles=("registrar",))
    fields = {"starts_on": p["starts_on"], "ends_on": p["ends_on"], "national_deadline": p["national_deadline"],
              **{f"{w}_{e}": p[w][e] for w in ("upload", "certification", "selection") for e in ("opens_on", "closes_on")},
              **p["limits"]}
    with db.uow() as uow:
        calendar.set_term(uow, registrar, p["school_year"], p["semester"], fields)
    (emitted,) = db.outbox_bodies("calendar-changed")
    assert_matches_canon(emitted, "calendar-changed")
    assert {k: v for k, v in emitted["payload"].items() if k not in ("version", "changed_at")} == \
        {k: v for k, v in p.items() if k not in ("version", "changed_at")}
    _apply_twice(records_db, records_calendar.record_calendar_changed, CANON["calendar-changed"])
    older = canon("calendar-changed", version=p["version"] - 1, upload={"opens_on": "2026-09-01", "closes_on": "2026-09-02"})
    older["event_id"] = str(uuid.uuid4())
    _apply_twice(records_db, records_calendar.record_calendar_changed, older)
    (held,) = records_db.rows("calendar_terms")
    assert held["version"] == p["version"] and held["term"]["upload"] == p["upload"]


def test_submission_produces_national_submitted_and_records_keeps_it_in_its_history(service_db, records_db):
    from submission import usecases
    from submission.national import adapter
    from submission.national import usecases as national
    db = service_db("submission")
    _apply_twice(db, usecases.record_certified, CANON["certified"])
    p = CANON["certified"]["payload"]
    student = caller_mod.Caller(user_id=p["student_user_id"], username="s", tenant="day", roles=("student",))
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))
    from submission.national.testing import select_consent_and_lock
    select_consent_and_lock(db, registrar, {student: [p["outcome_id"]]}, 115)
    directory = {p["student_id"]: {
        "national_id": "A123456789", "birth_date": "2010-03-05", "name": "陳怡君", "class_name": "一甲", "seat_no": 1,
        "outcomes": {p["outcome_id"]: {"status": "certified", "size": 100, "content_type": "application/pdf",
                                       "grade_level": 1, "credits": 3, "file_id": str(uuid.uuid4()),
                                       "sha256": p["sha256"]}}}}
    with db.uow() as uow:
        national.submit(uow, lambda year, ids, semester: directory, adapter.FakeNationalGateway(), registrar, 115, 1, "050407")
    (sent,) = db.outbox_bodies("national-submitted")
    assert_matches_canon(sent, "national-submitted")
    assert sent["payload"]["receipt_id"].startswith("050407-115-1-")

    from records.nationalexport import usecases as records_national
    _apply_twice(records_db, records_national.record_national_submitted, CANON["national-submitted"])
    (row,) = [r for r in records_db.rows("record_changes") if r["action"] == "national_submitted"]
    assert row["entity_id"] == CANON["national-submitted"]["payload"]["batch_id"]
    assert row["after"]["receipt_id"] == CANON["national-submitted"]["payload"]["receipt_id"]


# ------------------------------------------------------------------ files (producer)

def _files_upload(db, object_store, event, data, **claims_over):
    """An upload through files' use case with a ticket shaped like the canonical payload's."""
    from files import domain, usecases
    from files.repository import SqlFileRepository
    p = CANON[event]["payload"]
    student = caller_mod.Caller(user_id=p["student_user_id"], username="s", tenant="day", roles=("student",))
    if event == "performance-uploaded":
        t = {k: p[k] for k in ("performance_id", "performance_kind", "entered_by", "student_id", "student_user_id",
                               "school_year", "description")}
        t.update(kind="performance", tenant="day")
    elif event == "proof-uploaded":
        t = {k: p[k] for k in ("item_kind", "item_id", "attempt", "student_id", "student_user_id", "school_year",
                               "semester")}
        t.update(kind="item_proof", tenant="day")
    else:
        q = CANON["outcome-uploaded"]["payload"]
        t = {k: q[k] for k in ("outcome_id", "student_id", "student_user_id", "section_id", "teacher_user_id",
                               "school_year", "semester", "course_code", "subject_name", "description",
                               "class_code", "class_name", "homeroom_user_id")}
        t.update(kind="outcome", tenant="day")
    t.update(claims_over)
    ticket = domain.TicketClaims.from_ticket(t)
    import datetime as dt
    ticket.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    try:
        usecases.upload_once(SqlFileRepository(db.engine), object_store, domain.Limits(), student, ticket,
                             io.BytesIO(data), "專題.pdf", len(data))
    except Exception:  # noqa: BLE001 - refusals are what some contracts are about
        pass


def test_files_produces_outcome_uploaded(service_db, object_store):
    db = service_db("files")
    _files_upload(db, object_store, "outcome-uploaded", b"%PDF-1.4\n%%EOF\n")
    (emitted,) = db.outbox_bodies("outcome-uploaded")
    assert_matches_canon(emitted, "outcome-uploaded")
    assert emitted["payload"]["content_type"] == "application/pdf"
    # the student's class rides from records' ticket into the event (oversight per class)
    assert emitted["payload"]["class_code"] == CANON["outcome-uploaded"]["payload"]["class_code"]


def test_files_outcome_uploaded_from_a_ticket_without_a_class(service_db, object_store):
    """Tickets issued before the class was carried (or a student without a class): the fields
    are null and a consumer still reads the event."""
    db = service_db("files")
    _files_upload(db, object_store, "outcome-uploaded", b"%PDF-1.4\n%%EOF\n",
                  class_code=None, class_name=None, homeroom_user_id=None)
    (emitted,) = db.outbox_bodies("outcome-uploaded")
    loaded = events.load_event("outcome-uploaded", emitted)
    assert loaded["payload"]["class_code"] is None and loaded["payload"]["homeroom_user_id"] is None


def test_files_produces_performance_uploaded(service_db, object_store):
    db = service_db("files")
    _files_upload(db, object_store, "performance-uploaded", b"%PDF-1.4\n%%EOF\n")
    (emitted,) = db.outbox_bodies("performance-uploaded")
    assert_matches_canon(emitted, "performance-uploaded")


def test_files_produces_proof_uploaded(service_db, object_store):
    db = service_db("files")
    _files_upload(db, object_store, "proof-uploaded", b"%PDF-1.4\n%%EOF\n")
    (emitted,) = db.outbox_bodies("proof-uploaded")
    assert_matches_canon(emitted, "proof-uploaded")
    assert emitted["payload"]["attempt"] == 1 and emitted["payload"]["item_kind"] == "competition"


def test_files_produces_upload_refused_and_records_frees_the_slot(service_db, object_store, records_db):
    from records import usecases as records_uc
    from records.orm import upload_reservations
    db = service_db("files")
    _files_upload(db, object_store, "outcome-uploaded", b"")  # U02: an empty file
    (emitted,) = db.outbox_bodies("upload-refused")
    assert_matches_canon(emitted, "upload-refused")
    assert emitted["payload"]["code"] == "file_empty"
    p = CANON["outcome-uploaded"]["payload"]
    held, used = str(uuid.uuid4()), str(uuid.uuid4())
    with records_db.engine.begin() as c:
        for oid, used_at in ((p["outcome_id"], None), (held, None), (used, sa.func.now())):
            c.execute(upload_reservations.insert().values(
                outcome_id=oid, tenant="day", student_id=p["student_id"], school_year=115, semester=1,
                expires_at=sa.func.now() + sa.text("interval '15 minutes'"), used_at=used_at))
    _apply_twice(records_db, records_uc.release_refused_upload, emitted)
    left = {str(r["outcome_id"]) for r in records_db.rows("upload_reservations")}
    assert left == {held, used}, "only the refused upload's slot is freed; a used slot never is"
    # the canonical event (another subject) and one for a slot already used change nothing
    _apply_twice(records_db, records_uc.release_refused_upload, canon("upload-refused", subject_id=used))
    assert {str(r["outcome_id"]) for r in records_db.rows("upload_reservations")} == {held, used}


def test_submission_produces_sealed(service_db, monkeypatch):
    import datetime as dt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from submission.sealing import usecases as sealing
    db = service_db("submission")
    p = CANON["sealed"]["payload"]
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))
    with db.uow() as uow:
        sealing.record_application_date(uow, registrar, p["student_id"], p["student_user_id"],
                                        (dt.date.today() - dt.timedelta(days=6 * 366)).isoformat())
    with db.uow() as uow:
        sealing.seal_due_students(uow, sealing.ManifestSigner(Ed25519PrivateKey.generate()))
    (emitted,) = db.outbox_bodies("sealed")
    assert_matches_canon(emitted, "sealed")
    assert (emitted["payload"]["student_id"], emitted["payload"]["student_user_id"], emitted["tenant"]) == (
        p["student_id"], p["student_user_id"], "day")


def test_records_and_certification_consume_sealed(service_db, records_db):
    from certification import sealing as cert_sealing
    from records.sealing import usecases as records_sealing
    p = CANON["sealed"]["payload"]
    _apply_twice(records_db, records_sealing.record_sealed, CANON["sealed"])
    cert = service_db("certification")
    _apply_twice(cert, cert_sealing.record_sealed, CANON["sealed"])
    for db in (records_db, cert):
        with db.engine.connect() as c:
            rows = c.execute(sa.text("select tenant, student_id::text, student_user_id::text from sealed_students")).all()
        assert [tuple(r) for r in rows] == [("day", p["student_id"], p["student_user_id"])]


def test_submission_produces_and_records_consumes_sealed_read_approved(service_db, records_db):
    import datetime as dt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from records.sealing import usecases as records_sealing
    from submission.sealing import usecases as sealing
    db = service_db("submission")
    p = CANON["sealed-read-approved"]["payload"]
    reg = caller_mod.Caller(user_id=p["reader_user_id"], username="r", tenant="day", roles=("registrar",))
    with db.uow() as uow:
        sealing.record_application_date(uow, reg, p["student_id"], str(uuid.uuid4()),
                                        (dt.date.today() - dt.timedelta(days=6 * 366)).isoformat())
    with db.uow() as uow:
        sealing.seal_due_students(uow, sealing.ManifestSigner(Ed25519PrivateKey.generate()))
    with db.uow() as uow:
        req = sealing.request_sealed_read(uow, reg, p["student_id"], "查核")
    for role in ("principal", "executive_secretary"):
        with db.uow() as uow:
            sealing.approve_sealed_read(uow, caller_mod.Caller(
                user_id=str(uuid.uuid4()), username=role, tenant="day", roles=(role,)), req["id"])
    (emitted,) = db.outbox_bodies("sealed-read-approved")
    assert_matches_canon(emitted, "sealed-read-approved")
    assert (emitted["payload"]["student_id"], emitted["payload"]["reader_user_id"]) == (
        p["student_id"], p["reader_user_id"])
    _apply_twice(records_db, records_sealing.record_read_approved, CANON["sealed-read-approved"])
    with records_db.engine.connect() as c:
        assert c.execute(sa.text("select count(*) from sealed_read_grants")).scalar() == 1
