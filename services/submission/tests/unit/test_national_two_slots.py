"""An outcome with a document and a media file (issue 7's two slots) in the national export: both
files are in the package, in evidence.jsonl (by slot) and in the manifest with their
fingerprints; the pre-check checks each against the limits and against the held copy's
fingerprints; the lock asks files to hold both. Fakes (the simulator's check in-process)."""
import contextlib
import hashlib
import io
import json
import uuid
import zipfile

from portfolio_common import caller as caller_mod
from portfolio_common import events
from submission import usecases as selection
from submission.national.testing import FakeDownloads
from submission.national import adapter, domain, usecases
from submission.selection import consent, lock
from submission.selection import usecases as choice
from submission.unit_of_work import FakeSubmissionUnitOfWork

YEAR = 115
DOC, MEDIA = b"%PDF-1.4 the written report\n", b"ID3\x04 the recorded presentation"
D, M = hashlib.sha256(DOC).hexdigest(), hashlib.sha256(MEDIA).hexdigest()


def who(role, uid=None):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=role, tenant="day", roles=(role,))


class World:
    def __init__(self):
        from .test_submission_usecases import open_calendar
        self.uow = FakeSubmissionUnitOfWork()
        open_calendar(self.uow, "day")
        self.registrar = who("registrar")
        uid, self.sid, self.oid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        self.doc_id, self.media_id = str(uuid.uuid4()), str(uuid.uuid4())
        selection.record_certified(self.uow, events.load_event(events.CERTIFIED, events.make_event(
            events.CERTIFIED, "day", {
                "task_id": str(uuid.uuid4()), "outcome_id": self.oid, "student_id": self.sid, "student_user_id": uid,
                "section_id": str(uuid.uuid4()), "school_year": YEAR, "semester": 1, "course_code": "C1",
                "subject_name": "程式設計", "description": "專題報告與發表錄音", "sha256": D,
                "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow(),
                "fingerprints": {"document": D, "media": M}})))
        student = who("student", uid)
        choice.save_selection(self.uow, student, YEAR, outcome_ids=[self.oid])
        consent.set_consent(self.uow, student, YEAR, True, consent.WORDING_VERSION)
        lock.lock(self.uow, self.registrar, YEAR, "tenant", "", [uid])
        self.files = {"document": {"file_id": self.doc_id, "sha256": D, "size": len(DOC),
                                   "content_type": "application/pdf"},
                      "media": {"file_id": self.media_id, "sha256": M, "size": len(MEDIA),
                                "content_type": "audio/mpeg"}}
        self.bytes = {self.doc_id: DOC, self.media_id: MEDIA}

    def directory(self, year, ids, semester=None):
        return {self.sid: {"user_id": "x", "national_id": "A123456789", "birth_date": "2010-03-05", "name": "學生1",
                           "class_name": "資一甲", "seat_no": 1, "outcomes": {self.oid: {
                               "status": "certified", "size": len(DOC), "content_type": "application/pdf",
                               "sha256": D, "file_id": self.doc_id, "grade_level": 1, "credits": 2,
                               "files": self.files}}}}

    @contextlib.contextmanager
    def evidence(self, file_id):
        yield io.BytesIO(self.bytes[file_id])

    def precheck(self):
        return usecases.precheck(self.uow, self.directory, self.registrar, YEAR, 1)


def test_both_files_go_in_the_package_and_its_manifest():
    w = World()
    assert w.precheck()["ready"]
    batch = usecases.submit(w.uow, w.directory, adapter.FakeNationalGateway(course_codes={"C1"}), w.registrar,
                            YEAR, 1, "050407", evidence=w.evidence)
    assert batch["refused"] == 0
    evidence = {f["sha256"]: f for f in batch["files"] if f.get("evidence")}
    assert set(evidence) == {D, M}
    assert (evidence[D]["path"], evidence[M]["path"]) == (f"evidence/{D}.pdf", f"evidence/{M}.mp3")
    assert (evidence[D]["size"], evidence[M]["size"]) == (len(DOC), len(MEDIA))

    kept = FakeDownloads()
    f = usecases.roster_file(w.uow, w.directory, w.registrar, YEAR, 1, "package", "050407", evidence=w.evidence,
                             keep=kept.keep)
    zf = zipfile.ZipFile(io.BytesIO(kept.data(f["download_id"])))
    assert zf.read(f"evidence/{M}.mp3") == MEDIA and zf.read(f"evidence/{D}.pdf") == DOC
    lines = [json.loads(x) for x in zf.read("evidence.jsonl").decode().splitlines()]
    outcome_lines = [x for x in lines if x["outcome_id"] == w.oid]
    assert [(x["roster"], x["row"], x["slot"], x["sha256"]) for x in outcome_lines] == [
        ("course_outcomes", 2, "document", D), ("course_outcomes", 2, "media", M)]
    manifest = json.loads(zf.read("manifest.json"))
    assert {x["sha256"] for x in manifest["files"] if x.get("evidence")} == {D, M}


def test_the_precheck_checks_the_media_file_against_its_limit_and_fingerprint():
    w = World()
    w.files["media"]["size"] = domain.FILE_LIMITS["audio/mpeg"] + 1
    problems = [(p["field"], p["code"]) for s in w.precheck()["by_student"] for p in s["problems"]]
    assert problems == [("media_file", "file_too_large")]
    w = World()
    w.files["media"]["content_type"] = "video/x-msvideo"
    assert [(p["field"], p["code"]) for s in w.precheck()["by_student"] for p in s["problems"]] == [
        ("media_file", "file_type_not_allowed")]
    w = World()          # records holds another media file than the one certified and locked
    w.files["media"]["sha256"] = "e" * 64
    assert [(p["field"], p["code"]) for s in w.precheck()["by_student"] for p in s["problems"]] == [
        ("media_file", "fingerprint_mismatch")]
    w = World()          # the media file is gone from records: not what was locked
    del w.files["media"]
    assert [(p["field"], p["code"]) for s in w.precheck()["by_student"] for p in s["problems"]] == [
        ("file", "fingerprint_mismatch")]


def test_the_lock_asks_files_to_hold_both_files():
    w = World()
    (sent,) = [e for e in w.uow.events if e["event"] == events.SELECTION_LOCKED]
    assert sorted(f["sha256"] for f in sent["payload"]["files"]) == sorted([D, M])
    assert {f["subject_id"] for f in sent["payload"]["files"]} == {w.oid}
