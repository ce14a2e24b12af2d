"""An outcome's document and media file (issue 7 item 3) in submission's copies: the certified
copy keeps every fingerprint attested; a file added after the certification takes the outcome
out of what may be selected (and out of the selection) until it is certified again; the held
copy keeps both fingerprints. Fake unit of work."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import clock, events
from submission import usecases
from submission.selection import usecases as choice
from submission.unit_of_work import FakeSubmissionUnitOfWork

STUDENT, STUDENT_ID = str(uuid.uuid4()), str(uuid.uuid4())
DOC, MEDIA = "d" * 64, "a" * 64


def student():
    return caller_mod.Caller(user_id=STUDENT, username="s", tenant="day", roles=("student",))


def certified(oid, prints, at):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, "day", {
        "task_id": str(uuid.uuid4()), "outcome_id": oid, "student_id": STUDENT_ID, "student_user_id": STUDENT,
        "section_id": str(uuid.uuid4()), "school_year": 115, "semester": 1, "course_code": "C1",
        "subject_name": "程式設計", "description": "d", "sha256": prints.get("document") or prints["media"],
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": at, "fingerprints": prints}))


def uploaded(oid, slot, sha, at):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": oid, "file_id": str(uuid.uuid4()), "student_id": STUDENT_ID, "student_user_id": STUDENT,
        "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()), "school_year": 115, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "filename": "a",
        "content_type": "video/mp4" if slot == "media" else "application/pdf", "size": 10, "sha256": sha,
        "uploaded_at": at, "slot": slot}))


@pytest.fixture
def uow():
    u = FakeSubmissionUnitOfWork()
    today = clock.today_in_school()
    d = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    u.calendar.save_term(dict(tenant="day", school_year=115, semester=1, starts_on=d(-30), ends_on=d(60),
                                     upload_opens_on=d(-30), upload_closes_on=d(30), certification_opens_on=d(-30),
                                     certification_closes_on=d(30), selection_opens_on=d(-10),
                                     selection_closes_on=d(10), national_deadline=d(80), version=1,
                                     changed_by=str(uuid.uuid4()), changed_at=clock.now()))
    u.calendar.save_limits("day", 115, {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6,
                                        "performances_selected_per_year": 10}, None, None)
    return u


def candidates(uow):
    return [c["outcome_id"] for c in usecases.get_my_selection(uow, student(), 115)["candidates"]]


def test_the_certified_copy_keeps_both_fingerprints(uow):
    oid, t0 = str(uuid.uuid4()), events.utcnow()
    usecases.record_certified(uow, certified(oid, {"document": DOC, "media": MEDIA}, t0))
    assert uow.selections.certified_by_ids([oid])[oid]["fingerprints"] == {"document": DOC, "media": MEDIA}


def test_a_file_added_after_the_certification_leaves_the_selection_the_same_file_does_not(uow):
    oid, t0 = str(uuid.uuid4()), events.utcnow()
    usecases.record_certified(uow, certified(oid, {"document": DOC}, t0))
    usecases.select_outcomes(uow, student(), 115, [oid])
    # a restore of the identical document changes nothing
    choice.record_outcome_uploaded(uow, uploaded(oid, "document", DOC, t0 + dt.timedelta(minutes=1)))
    assert candidates(uow) == [oid]
    # the media file added: certified again first
    choice.record_outcome_uploaded(uow, uploaded(oid, "media", MEDIA, t0 + dt.timedelta(minutes=2)))
    assert candidates(uow) == []
    mine = usecases.get_my_selection(uow, student(), 115)
    assert oid not in [o["outcome_id"] for o in mine["outcomes"] if o.get("selected")]
    # certified again on both: back
    usecases.record_certified(uow, certified(oid, {"document": DOC, "media": MEDIA}, t0 + dt.timedelta(minutes=3)))
    assert candidates(uow) == [oid]


def test_a_batch_applies_each_event_once_and_in_order_as_single_deliveries_would(uow):
    """The batched handler (one transaction per delivery batch) ends where one event at a time
    ends: an event repeated in the batch or applied before changes nothing, and the media file
    added after the certification, later in the same batch, still takes the outcome out."""
    oid, t0 = str(uuid.uuid4()), events.utcnow()
    usecases.record_certified(uow, certified(oid, {"document": DOC}, t0))
    usecases.select_outcomes(uow, student(), 115, [oid])
    same_doc = uploaded(oid, "document", DOC, t0 + dt.timedelta(minutes=1))
    assert choice.record_outcomes_uploaded(uow, [same_doc, same_doc]) == 1
    assert candidates(uow) == [oid]
    media = uploaded(oid, "media", MEDIA, t0 + dt.timedelta(minutes=2))
    other = str(uuid.uuid4())
    first_of_other = uploaded(other, "document", DOC, t0 + dt.timedelta(minutes=2))
    assert choice.record_outcomes_uploaded(uow, [same_doc, media, first_of_other, media]) == 2
    assert candidates(uow) == []
    assert {s["outcome_id"]: s["state"] for s in uow.choices.outcome_states_for("day", STUDENT, 115)} == {
        oid: "uploaded", other: "uploaded"}
    assert choice.record_outcomes_uploaded(uow, [media, first_of_other]) == 0   # redelivered: nothing new
