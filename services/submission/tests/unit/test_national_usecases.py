"""The national loop with fakes: pre-check, submit to the simulator's check, receipt with a
refused row, the student's rows and report, correction and resubmission; and the refusals."""
import json
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.errors import PortfolioError
from submission import usecases as selection
from submission.selection import consent, lock
from submission.selection import usecases as choice
from submission.national import adapter, usecases
from submission.unit_of_work import FakeSubmissionUnitOfWork

YEAR = 115
IDS = ["A123456789", "B123456780"]


def who(role, uid=None, tenant="day"):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


def certified(student_uid, student_id, code, tenant="day", semester=1):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": student_id,
        "student_user_id": student_uid, "section_id": str(uuid.uuid4()), "school_year": YEAR, "semester": semester,
        "course_code": code, "subject_name": "程式設計", "description": "我的專題", "sha256": "a" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


class World:
    def __init__(self, tenant="day"):
        self.uow = FakeSubmissionUnitOfWork()
        from .test_submission_usecases import open_calendar
        open_calendar(self.uow, tenant)
        self.registrar = who("registrar", tenant=tenant)
        self.students, self.directory_data = [], {}
        for n, (nid, code) in enumerate(zip(IDS, ["C1", "C2"]), start=1):
            uid, sid = str(uuid.uuid4()), str(uuid.uuid4())
            env = certified(uid, sid, code, tenant)
            selection.record_certified(self.uow, env)
            oid = str(env["payload"]["outcome_id"])
            choice.save_selection(self.uow, who("student", uid, tenant), YEAR, outcome_ids=[oid])
            consent.set_consent(self.uow, who("student", uid, tenant), YEAR, True, consent.WORDING_VERSION)
            self.students.append(who("student", uid, tenant))
            self.directory_data[sid] = {
                "user_id": uid, "national_id": nid, "birth_date": "2010-03-05", "name": f"學生{n}", "class_name": "資一甲",
                "seat_no": n, "outcomes": {oid: {"status": "certified", "size": 1000, "content_type": "application/pdf",
                                                  "grade_level": 1, "credits": 2, "file_id": str(uuid.uuid4()),
                                                  "sha256": "a" * 64}}}
        # a third student of the semester who selected nothing: records names them too (the
        # 學生資料名冊 lists every student of the semester, not only those with a held copy)
        self.idle_user_id = str(uuid.uuid4())
        self.directory_data[str(uuid.uuid4())] = {
            "user_id": self.idle_user_id, "national_id": "C123456781", "birth_date": "2010-04-01", "name": "學生3",
            "class_name": "資一甲", "seat_no": 3, "outcomes": {}}
        self.asked = []
        # the national course-code file lacks C2: the second student's row is refused
        self.gateway = adapter.FakeNationalGateway(course_codes={"C1"})

    def directory(self, year, ids, semester=None):
        """records.national_export_fields: the named students, and with the semester every
        student of it (all of directory_data here)."""
        self.asked.append((year, list(ids)))
        return {k: v for k, v in self.directory_data.items() if k in ids or semester is not None}

    def lock(self):
        lock.lock(self.uow, self.registrar, YEAR, "tenant", "", [s.user_id for s in self.students])

    def submit(self, caller=None):
        return usecases.submit(self.uow, self.directory, self.gateway, caller or self.registrar, YEAR, 1, "050407")


def code_of(call):
    with pytest.raises(PortfolioError) as e:
        call()
    return e.value.code


def test_the_whole_loop_refused_row_report_correction_resubmission():
    w = World()
    w.lock()
    check = usecases.precheck(w.uow, w.directory, w.registrar, YEAR, 1)
    # two course-outcome rows and each student's 學生資料名冊 row, the third student's too, who
    # selected nothing (records' fields here have no grades, absences or performances: those
    # rosters go with their headers only)
    assert check["ready"] and check["rows"] == 5 and check["students"] == 3
    assert {r["roster"]: r["rows"] for r in check["rosters"]} == {
        "student_data": 3, "grades": 0, "attendance": 0, "course_outcomes": 2, "performances": 0}
    batch = w.submit()
    assert (batch["attempt"], batch["accepted"], batch["refused"]) == (1, 4, 1)
    idle = [r for r in usecases.get_batch(w.uow, w.registrar, batch["batch_id"])["rows"] if r["seat_no"] == 3]
    assert [(r["roster"], r["row"], r["result"]) for r in idle] == [("student_data", 4, "accepted")]
    idle_student = who("student", w.idle_user_id)
    assert [(r["roster"], r["result"]) for r in usecases.my_rows(w.uow, idle_student, YEAR)["semesters"][0]["rows"]] \
        == [("student_data", "accepted")]
    assert batch["receipt_id"].startswith("050407-115-1-")
    detail = usecases.get_batch(w.uow, w.registrar, batch["batch_id"])
    refused = [r for r in detail["rows"] if r["result"] == "refused"]
    assert [(r["seat_no"], r["code"]) for r in refused] == [(2, "course_code_unknown")]
    assert refused[0]["reason"] == "課程代碼不在課程計畫平臺的代碼表中。"
    sent = [e for e in w.uow.events if e["event"] == events.NATIONAL_SUBMITTED]
    assert len(sent) == 1 and sent[0]["payload"]["receipt_id"] == batch["receipt_id"]
    assert "A123456789" not in json.dumps(sent, default=str) + json.dumps(detail, default=str)

    # the second student sees their row, refused, and reports it
    mine = usecases.my_rows(w.uow, w.students[1], YEAR)
    (sem,) = mine["semesters"]
    assert sem["can_report"] and sorted((r["roster"], r["result"]) for r in sem["rows"]) == [
        ("course_outcomes", "refused"), ("student_data", "accepted")]
    report = usecases.report_row(w.uow, w.students[1], batch["batch_id"], "course_outcomes", 3, "課程代碼應為 C1\r\n")
    assert report["message"] == "課程代碼應為 C1" and report["status"] == "open"
    # the first student sees only their own row
    assert sorted((r["roster"], r["row"]) for r in usecases.my_rows(w.uow, w.students[0], YEAR)["semesters"][0]["rows"]) \
        == [("course_outcomes", 2), ("student_data", 2)]

    listed = usecases.list_reports(w.uow, w.registrar, YEAR)["reports"]
    assert [(x["row"], x["row_detail"]["seat_no"]) for x in listed] == [(3, 2)]
    done = usecases.resolve_report(w.uow, w.registrar, report["report_id"], "已向課程計畫平臺確認代碼")
    assert done["status"] == "corrected"
    assert code_of(lambda: usecases.resolve_report(w.uow, w.registrar, report["report_id"], "again")) == \
        "report_already_resolved"

    w.gateway.course_codes = {"C1", "C2"}   # corrected where the code lives; resubmit
    again = w.submit()
    assert (again["attempt"], again["accepted"], again["refused"]) == (2, 5, 0)
    assert len([e for e in w.uow.events if e["event"] == events.NATIONAL_SUBMITTED]) == 2
    rows = usecases.my_rows(w.uow, w.students[1], YEAR)["semesters"][0]
    assert rows["batch_id"] == again["batch_id"] and {r["result"] for r in rows["rows"]} == {"accepted"}
    assert [b["attempt"] for b in usecases.list_batches(w.uow, w.registrar, YEAR)["batches"]] == [1, 2]


def test_a_failed_precheck_sends_and_stores_nothing():
    w = World()
    w.directory_data[next(iter(w.directory_data))]["national_id"] = "A123456788"
    w.lock()
    check = usecases.precheck(w.uow, w.directory, w.registrar, YEAR, 1)
    assert not check["ready"]
    (student,) = check["by_student"]
    assert student["seat_no"] == 1 and student["problems"][0]["code"] == "national_id_checksum"
    assert code_of(w.submit) == "precheck_failed"
    assert w.gateway.sent == 0 and usecases.list_batches(w.uow, w.registrar, YEAR)["batches"] == []


def test_nothing_before_the_lock_and_nothing_when_the_national_side_is_down():
    w = World()
    assert code_of(lambda: usecases.precheck(w.uow, w.directory, w.registrar, YEAR, 1)) == "not_locked"
    w.lock()
    w.gateway = adapter.FakeNationalGateway(unavailable=True)
    assert code_of(w.submit) == "national_unavailable"
    assert usecases.list_batches(w.uow, w.registrar, YEAR)["batches"] == [] and w.uow.events[-1]["event"] != \
        events.NATIONAL_SUBMITTED


def test_students_and_other_tenants_cannot_reach_batches_or_rows():
    w = World()
    w.lock()
    batch = w.submit()
    ce = who("registrar", tenant="ce")
    assert code_of(lambda: usecases.get_batch(w.uow, ce, batch["batch_id"])) == "not_found"
    assert code_of(lambda: usecases.import_receipt(w.uow, ce, batch["batch_id"], "{}")) == "not_found"
    assert usecases.list_batches(w.uow, ce, YEAR)["batches"] == []
    assert code_of(lambda: usecases.get_batch(w.uow, w.students[0], batch["batch_id"])) == "not_allowed"
    assert code_of(lambda: w.submit(w.students[0])) == "not_allowed"
    # a student reporting another student's row: answered as if the row did not exist
    assert code_of(lambda: usecases.report_row(w.uow, w.students[0], batch["batch_id"], "course_outcomes", 3,
                                               "不是我的")) == "not_found"
    assert code_of(lambda: usecases.report_row(w.uow, who("student", w.students[1].user_id, "ce"),
                                               batch["batch_id"], "course_outcomes", 3, "x")) == "not_found"
    assert code_of(lambda: usecases.my_rows(w.uow, w.registrar, YEAR)) == "not_allowed"


def test_reports_close_after_the_check_days(monkeypatch):
    w = World()
    w.lock()
    batch = w.submit()
    monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", str(4 * 86400))
    assert not usecases.my_rows(w.uow, w.students[1], YEAR)["semesters"][0]["can_report"]
    with pytest.raises(PortfolioError) as e:
        usecases.report_row(w.uow, w.students[1], batch["batch_id"], "course_outcomes", 3, "錯了")
    assert e.value.code == "window_closed" and batch["check_until"] in e.value.text


def test_empty_or_long_reports_are_refused():
    w = World()
    w.lock()
    batch = w.submit()
    for text in ("", "\u200b  ", "字" * 501, None):
        assert code_of(lambda: usecases.report_row(w.uow, w.students[1], batch["batch_id"], "course_outcomes", 3,
                                                   text)) == "report_invalid"


def _receipt(batch, **changes):
    doc = {"format": "national-receipt/1", "receipt_id": "050407-115-1-0099", "school_code": "050407",
           "school_year": 115, "semester": 1, "package_sha256": batch["package_sha256"],
           "rows": [{"roster": "course_outcomes", "row": 2, "result": "accepted"}]}
    doc.update(changes)
    return json.dumps(doc)


@pytest.mark.parametrize("changes,code", [
    ({"school_code": "999999"}, "receipt_other_school"),
    ({"school_year": 114}, "receipt_other_batch"),
    ({"package_sha256": "0" * 64}, "receipt_other_batch"),
    ({"rows": [{"roster": "course_outcomes", "row": 99, "result": "accepted"}]}, "receipt_invalid"),
    ({"format": "something"}, "receipt_invalid"),
    ({"rows": "nope"}, "receipt_invalid"),
    ({"rows": [{"roster": "course_outcomes", "row": 2, "result": "maybe"}]}, "receipt_invalid"),
])
def test_a_receipt_of_another_school_year_or_batch_or_malformed_is_refused(changes, code):
    w = World()
    w.lock()
    w.gateway = _NoReceipt()
    batch = w.submit()
    assert batch["receipt_error"] == "receipt_invalid" and batch["receipt_id"] is None
    assert code_of(lambda: usecases.import_receipt(w.uow, w.registrar, batch["batch_id"],
                                                   _receipt(batch, **changes))) == code
    assert not [e for e in w.uow.events if e["event"] == events.NATIONAL_SUBMITTED]
    assert code_of(lambda: usecases.import_receipt(w.uow, w.registrar, batch["batch_id"], 42)) == "receipt_invalid"
    # the right receipt, when it comes, is imported; twice is harmless; another one is refused
    ok = usecases.import_receipt(w.uow, w.registrar, batch["batch_id"], _receipt(batch))
    assert ok["receipt_id"] == "050407-115-1-0099" and ok["accepted"] == 1
    assert usecases.import_receipt(w.uow, w.registrar, batch["batch_id"], _receipt(batch))["receipt_id"] == \
        ok["receipt_id"]
    assert code_of(lambda: usecases.import_receipt(w.uow, w.registrar, batch["batch_id"],
                                                   _receipt(batch, receipt_id="X-2"))) == "receipt_already_imported"
    assert len([e for e in w.uow.events if e["event"] == events.NATIONAL_SUBMITTED]) == 1


class _NoReceipt:
    def submit(self, fh):
        return b"\xff\xfe not json"


def test_evidence_whose_bytes_changed_stops_the_submission_before_anything_is_sent():
    import contextlib
    import io
    w = World()
    w.lock()
    opened = []

    @contextlib.contextmanager
    def store(file_id):       # the object store answers other bytes than the certified fingerprint
        opened.append(file_id)
        yield io.BytesIO(b"%PDF-1.4 not the certified file")
    r = usecases.submit
    assert code_of(lambda: r(w.uow, w.directory, w.gateway, w.registrar, YEAR, 1, "050407", evidence=store)) == \
        "evidence_changed"
    assert opened and w.gateway.sent == 0
    assert usecases.list_batches(w.uow, w.registrar, YEAR)["batches"] == []


def test_the_registrar_downloads_each_roster_and_the_package_others_cannot():
    import io
    import zipfile
    from openpyxl import load_workbook
    from submission.national.testing import FakeDownloads
    w = World()
    w.lock()
    kept = FakeDownloads()
    f = usecases.roster_file(w.uow, w.directory, w.registrar, YEAR, 1, "student_data", "050407", keep=kept.keep)
    assert f["filename"] == "050407-115-1-學生資料名冊.xlsx" and f["problem_count"] == 0
    assert "data" not in f and kept.kept[f["download_id"]]["requested_by"] == w.registrar.user_id
    wb = load_workbook(io.BytesIO(kept.data(f["download_id"])), read_only=True)
    rows = list(wb["學生資料"].iter_rows(values_only=True))
    # every student of the semester: the two held and the one who selected nothing
    assert len(rows) == 4 and sorted(r[0] for r in rows[1:]) == IDS + ["C123456781"]
    p = usecases.roster_file(w.uow, w.directory, w.registrar, YEAR, 1, "package", "050407", keep=kept.keep)
    assert kept.kept[p["download_id"]]["purpose"] == "national-package"
    names = zipfile.ZipFile(io.BytesIO(kept.data(p["download_id"]))).namelist()
    assert "manifest.json" in names and "rosters/課程學習成果名冊.xlsx" in names
    assert code_of(lambda: usecases.roster_file(w.uow, w.directory, w.registrar, YEAR, 1, "nope", "050407")) == \
        "not_found"
    for role in ("student", "teacher"):
        assert code_of(lambda: usecases.roster_file(w.uow, w.directory, who(role), YEAR, 1, "package", "050407")) \
            == "not_allowed"
    ce = who("registrar", tenant="ce")
    assert code_of(lambda: usecases.roster_file(w.uow, w.directory, ce, YEAR, 1, "package", "050407")) == \
        "not_locked"


def test_a_sealed_students_rows_show_as_sealed_and_their_own_view_is_refused():
    """The attacker's side of sealing (issue 9 item 7, brief national item 5): once a student is
    sealed, the registrar's batch and report list show their rows as sealed (name and class, no
    course, result or words of theirs), and the student's own 我的上傳結果 and reports are refused:
    sealed data is read only through the audited two-role request."""
    w = World()
    w.lock()
    batch = w.submit()
    usecases.report_row(w.uow, w.students[1], batch["batch_id"], "course_outcomes", 3, "課程代碼應為 C1")
    sid = next(k for k, v in w.directory_data.items() if v["user_id"] == w.students[1].user_id)
    w.uow.sealing.add_seal("day", sid, w.students[1].user_id, events.utcnow())

    rows = usecases.get_batch(w.uow, w.registrar, batch["batch_id"])["rows"]
    theirs = [r for r in rows if r["student_id"] == sid]
    assert sorted(r["roster"] for r in theirs) == ["course_outcomes", "student_data"]
    for r in theirs:
        assert (r["sealed"], r["result"], r["student_name"], r["class_name"]) == (True, "sealed", "學生2", "資一甲")
        assert (r["course_code"], r["subject_name"], r["description"], r["seat_no"], r["code"], r["reason"],
                r["reports"]) == ("", "", "", None, None, None, [])
    assert "C2" not in json.dumps(theirs, default=str) and "我的專題" not in json.dumps(theirs, default=str)
    assert not any(r.get("sealed") for r in rows if r["student_id"] != sid)
    (listed,) = usecases.list_reports(w.uow, w.registrar, YEAR)["reports"]
    assert listed["sealed"] and listed["message"] == "" and listed["row_detail"]["sealed"]

    assert code_of(lambda: usecases.my_rows(w.uow, w.students[1], YEAR)) == "sealed_read_required"
    assert code_of(lambda: usecases.report_row(w.uow, w.students[1], batch["batch_id"], "student_data", 3,
                                               "再回報一次")) == "sealed_read_required"
    assert usecases.my_rows(w.uow, w.students[0], YEAR)["semesters"]     # the others are not affected
