"""The upload use case with a fake store and repository: every path leaves storage consistent."""
import io
import uuid

import pytest

from files import usecases
from files.errors import AlreadyUploaded, FileTypeRefused
from files.repository import FakeFileRepository, FakeObjectStore
from portfolio_common import caller as caller_mod

PDF = b"%PDF-1.4\n%%EOF\n"


def setup():
    c = caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",))
    t = {"kind": "outcome", "outcome_id": str(uuid.uuid4()), "tenant": "day", "student_id": str(uuid.uuid4()),
         "student_user_id": c.user_id, "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()),
         "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "s", "description": "d"}
    return c, t


def test_stored_promoted_recorded_and_announced():
    c, t = setup()
    repo, store = FakeFileRepository(), FakeObjectStore()
    res = usecases.upload_outcome(repo, store, c, t, io.BytesIO(PDF), "a.pdf")
    assert [k[1] for k in store.objects] == [f"outcomes/{t['student_id']}/{res['file_id']}"]
    (event,) = repo.events
    assert event["event"] == "outcome-uploaded" and event["payload"]["sha256"] == res["sha256"]
    with pytest.raises(AlreadyUploaded):
        usecases.upload_outcome(repo, store, c, t, io.BytesIO(PDF), "a.pdf")


def test_refused_content_leaves_no_object():
    c, t = setup()
    repo, store = FakeFileRepository(), FakeObjectStore()
    with pytest.raises(FileTypeRefused):
        usecases.upload_outcome(repo, store, c, t, io.BytesIO(b"<html>"), "a.pdf")
    assert store.objects == {} and repo.rows == {}


def test_database_failure_after_promotion_removes_the_object():
    c, t = setup()
    repo, store = FakeFileRepository(fail_on_record=RuntimeError("database went away")), FakeObjectStore()
    with pytest.raises(RuntimeError):
        usecases.upload_outcome(repo, store, c, t, io.BytesIO(PDF), "a.pdf")
    assert store.objects == {} and repo.events == []


def test_downloads_for_owner_and_reviewer_only():
    c, t = setup()
    repo, store = FakeFileRepository(), FakeObjectStore()
    fid = usecases.upload_outcome(repo, store, c, t, io.BytesIO(PDF), "a.pdf")["file_id"]
    reviewer = caller_mod.Caller(user_id=t["teacher_user_id"], username="t", tenant="day", roles=("subject_teacher",))
    assert usecases.find_for_download(repo, reviewer, fid)["id"] == fid
    stranger = caller_mod.Caller(user_id=str(uuid.uuid4()), username="x", tenant="day", roles=("subject_teacher",))
    for who, fid_ in ((stranger, fid), (c, str(uuid.uuid4())), (c, "junk")):
        with pytest.raises(Exception) as e:
            usecases.find_for_download(repo, who, fid_)
        assert e.value.code == "not_found"
