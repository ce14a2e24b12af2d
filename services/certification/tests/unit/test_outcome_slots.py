"""A certification attests the outcome as a whole (issue 7 item 3: a 簡述 plus a document, a
media file, or both): a round holds all the outcome's files, a decision records every
fingerprint, a file added to or replaced in a certified outcome opens a new round, the
identical file keeps the certification. Fake unit of work: no database, no broker."""
import datetime as dt
import uuid

import pytest

from certification import domain, usecases
from certification.unit_of_work import FakeCertificationUnitOfWork
from portfolio_common import caller as caller_mod
from portfolio_common import clock, events

TEACHER = str(uuid.uuid4())


def teacher():
    return caller_mod.Caller(user_id=TEACHER, username="t", tenant="day", roles=("subject_teacher",))


def calendar():
    today = clock.today_in_school()
    d = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    return events.load_event(events.CALENDAR_CHANGED, events.make_event(events.CALENDAR_CHANGED, "day", {
        "school_year": 115, "semester": 1, "starts_on": d(-60), "ends_on": d(60),
        "upload": {"opens_on": d(-60), "closes_on": d(5)},
        "certification": {"opens_on": d(-10), "closes_on": d(10)},
        "selection": {"opens_on": d(100), "closes_on": d(120)},
        "national_deadline": d(200), "school_completion_on": d(186),
        "limits": {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6,
                   "performances_selected_per_year": 10},
        "version": 1, "changed_by": str(uuid.uuid4()), "changed_at": events.utcnow()}))

DOC, DOC2, MEDIA = "d" * 64, "e" * 64, "a" * 64


def file_uploaded(outcome_id, slot, sha, student=("11111111-1111-4111-8111-111111111111",) * 2):
    ctype, name = ("video/mp4", "影片.mp4") if slot == "media" else ("application/pdf", "報告.pdf")
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": outcome_id, "file_id": str(uuid.uuid4()), "student_id": student[0],
        "student_user_id": student[1], "section_id": "22222222-2222-4222-8222-222222222222",
        "teacher_user_id": TEACHER, "school_year": 115, "semester": 1, "course_code": "C1",
        "subject_name": "程式設計", "description": "專題", "filename": name, "content_type": ctype,
        "size": 10, "sha256": sha, "uploaded_at": events.utcnow(), "slot": slot}))


@pytest.fixture
def uow():
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar())
    return u


def rounds(uow, oid):
    return sorted((t for t in uow.tasks.tasks.values() if str(t["outcome_id"]) == oid), key=lambda t: t["round"])


@pytest.mark.parametrize("status, files, slot, sha, action", [
    ("pending", {"document": DOC}, "media", MEDIA, "supersede"),   # the open round gains its media file
    ("certified", {"document": DOC}, "media", MEDIA, "open"),      # added to a certified outcome: certify again
    ("certified", {"document": DOC, "media": MEDIA}, "media", MEDIA, "keep"),  # identical file: kept
    ("certified", {"document": DOC, "media": MEDIA}, "document", DOC2, "open"),
    ("pending", {"document": DOC, "media": MEDIA}, "document", DOC, "keep"),
    ("returned", {"document": DOC}, "document", DOC, "open"),
])
def test_a_file_is_compared_with_the_same_slot_of_the_latest_round(status, files, slot, sha, action):
    latest = {"status": status, "files": {k: {"file_id": "f", "filename": "n", "content_type": None, "sha256": v}
                                          for k, v in files.items()}}
    assert domain.round_on_upload(latest, sha, slot) == action


def test_a_round_from_before_slots_holds_its_one_file_in_the_slot_of_its_kind():
    old = {"file_id": "f", "filename": "a.mp4", "content_type": "video/mp4", "sha256": MEDIA, "files": None}
    assert set(domain.round_files(old)) == {"media"}
    assert domain.round_on_upload(dict(old, status="certified"), MEDIA, "media") == "keep"


def test_document_then_media_is_one_round_with_both_and_a_decision_on_both(uow):
    oid = str(uuid.uuid4())
    usecases.create_task(uow, file_uploaded(oid, "document", DOC))
    usecases.create_task(uow, file_uploaded(oid, "media", MEDIA))
    first, second = rounds(uow, oid)
    assert first["status"] == domain.SUPERSEDED and second["status"] == "pending"
    (task,) = usecases.list_queue(uow, teacher())
    assert {k: v["sha256"] for k, v in task["files"].items()} == {"document": DOC, "media": MEDIA}
    assert task["sha256"] == DOC  # the principal file: the document
    uow.events.clear()
    assert usecases.certify(uow, teacher(), [str(task["id"])])["certified"] == [str(task["id"])]
    (decision,) = uow.tasks.decisions
    assert decision["fingerprints"] == {"document": DOC, "media": MEDIA} and decision["sha256"] == DOC
    (cert,) = uow.events
    assert cert["payload"]["fingerprints"] == {"document": DOC, "media": MEDIA}
    assert events.fingerprints_of(cert["payload"]) == {"document": DOC, "media": MEDIA}


def test_a_media_file_added_to_a_certified_outcome_opens_a_new_round_with_both(uow):
    oid = str(uuid.uuid4())
    usecases.create_task(uow, file_uploaded(oid, "document", DOC))
    (task,) = usecases.list_queue(uow, teacher())
    usecases.certify(uow, teacher(), [str(task["id"])])
    usecases.create_task(uow, file_uploaded(oid, "media", MEDIA))
    certified, reopened = rounds(uow, oid)
    assert certified["status"] == "certified" and reopened["status"] == "pending" and reopened["round"] == 2
    assert {k: v["sha256"] for k, v in domain.round_files(reopened).items()} == {"document": DOC, "media": MEDIA}
    # the identical media file again (a restore) keeps what is there
    usecases.create_task(uow, file_uploaded(oid, "media", MEDIA))
    assert len(rounds(uow, oid)) == 2


def test_a_withdrawal_reopens_the_round_with_all_its_files(uow):
    oid = str(uuid.uuid4())
    usecases.create_task(uow, file_uploaded(oid, "media", MEDIA))
    usecases.create_task(uow, file_uploaded(oid, "document", DOC))
    (task,) = usecases.list_queue(uow, teacher())
    usecases.certify(uow, teacher(), [str(task["id"])])
    usecases.withdraw_certifications(uow, teacher(), [str(task["id"])], "認證錯了")
    latest = rounds(uow, oid)[-1]
    assert latest["status"] == "pending"
    assert set(domain.round_files(latest)) == {"document", "media"}
